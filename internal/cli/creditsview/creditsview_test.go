package creditsview

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests' time zones, wherever they run

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mt(s string) *metav1.Time { t := metav1.NewTime(at(s)); return &t }

func zoneLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// seedCredit is the seed's user as the credit controller writes it: 500 a week in
// dc-rov-01, train.v100's 8 V100s at 2.5 burning 20 an hour, 300 used at Wednesday 09:00 UTC
// of the week that began Sunday 2025-01-05 00:00 UTC.
func seedCredit() *doradev1.UserCredit {
	return &doradev1.UserCredit{
		ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti"},
		Spec:       doradev1.UserCreditSpec{User: "amedeo.setti"},
		Status: doradev1.UserCreditStatus{Zones: []doradev1.ZoneCredits{
			{
				Zone: "dc-rov-01", Weekly: "500", Used: "300", Remaining: "200", AsOf: mt("2025-01-08T09:00:00Z"),
				BurnRatePerHour: "20", WeekStart: mt("2025-01-05T00:00:00Z"), NextReset: mt("2025-01-12T00:00:00Z"),
				ExhaustsAt: mt("2025-01-08T19:00:00Z"),
				Products: []doradev1.ProductCredits{
					{Product: "Quadro RTX 6000", GPUHours: "12.5", Credits: "0"},
					{Product: "Tesla V100-SXM2-16GB", GPUHours: "120", Credits: "300"},
				},
				History: []doradev1.WeekCredits{
					{WeekStart: metav1.NewTime(at("2024-12-29T00:00:00Z")), Products: []doradev1.ProductCredits{{Product: "Tesla V100-SXM2-16GB", GPUHours: "200", Credits: "500"}}},
					{WeekStart: metav1.NewTime(at("2024-12-22T00:00:00Z")), Products: []doradev1.ProductCredits{{Product: "Tesla V100-SXM2-16GB", GPUHours: "10.25", Credits: "25.63"}}},
					// The week of 2024-12-15 had no usage: it is not kept.
					{WeekStart: metav1.NewTime(at("2024-12-08T00:00:00Z")), Products: []doradev1.ProductCredits{{Product: "NVIDIA H100 80GB HBM3", GPUHours: "1", Credits: "4"}}},
				},
			},
			{Zone: "dc-test-01", Used: "7.5", AsOf: mt("2025-01-08T09:00:00Z"), BurnRatePerHour: "0", WeekStart: mt("2025-01-05T00:00:00Z"), NextReset: mt("2025-01-12T00:00:00Z")},
		}},
	}
}

func TestBalanceOf(t *testing.T) {
	rome := zoneLoc(t, "Europe/Rome")
	type want struct {
		used, remaining string
		exhausted       bool
		runsOut         string
		stale           bool
	}
	cases := []struct {
		name   string
		mutate func(z *doradev1.ZoneCredits)
		zone   string
		now    string
		want   want
	}{
		{name: "at asOf", now: "2025-01-08T09:00:00Z",
			want: want{"300.00", "200.00", false, "Wed 2025-01-08 20:00 CET, in 10h0m, at this rate", false}},
		{name: "extrapolated 1h30m at 20 an hour", now: "2025-01-08T10:30:00Z",
			want: want{"330.00", "170.00", false, "Wed 2025-01-08 20:00 CET, in 8h30m, at this rate", false}},
		{name: "extrapolated by the second, exactly", now: "2025-01-08T09:00:01Z",
			want: want{"300.01", "199.99", false, "Wed 2025-01-08 20:00 CET, in 9h59m, at this rate", false}},
		{name: "not past the budget: the workloads are held there", now: "2025-01-09T09:00:00Z",
			want: want{"500.00", "0.00", true, "spent: the workloads are held until the reset", false}},
		{name: "not before the reset at a slow rate", now: "2025-01-08T10:00:00Z", mutate: func(z *doradev1.ZoneCredits) { z.BurnRatePerHour = "1.5" },
			want: want{"301.50", "198.50", false, "not before the reset, at this rate", false}},
		{name: "nothing runs", now: "2025-01-10T10:00:00Z", mutate: func(z *doradev1.ZoneCredits) { z.BurnRatePerHour = "" },
			want: want{"300.00", "200.00", false, "not before the reset: nothing runs", false}},
		{name: "spent, as the status says", now: "2025-01-08T09:00:00Z", mutate: func(z *doradev1.ZoneCredits) {
			z.Used, z.Remaining, z.Exhausted, z.BurnRatePerHour = "500", "0", true, "0"
		}, want: want{"500.00", "0.00", true, "spent: the workloads are held until the reset", false}},
		{name: "a clock behind asOf does not go back", now: "2025-01-08T08:00:00Z",
			want: want{"300.00", "200.00", false, "Wed 2025-01-08 20:00 CET, in 11h0m, at this rate", false}},
		{name: "the week reset and nothing was written since", now: "2025-01-12T02:00:00Z",
			want: want{"40.00", "460.00", false, "Mon 2025-01-13 02:00 CET, in 23h0m, at this rate", true}},
		{name: "no budget: metered", zone: "dc-test-01", now: "2025-01-08T10:00:00Z",
			want: want{"7.50", "0.00", false, "no budget here: metered, not limited", false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			uc := seedCredit()
			if tc.mutate != nil {
				tc.mutate(&uc.Status.Zones[0])
			}
			zone := tc.zone
			if zone == "" {
				zone = "dc-rov-01"
			}
			b, err := BalanceOf(uc, zone, at(tc.now), rome)
			if err != nil {
				t.Fatal(err)
			}
			got := want{b.Used.String(), b.Remaining.String(), b.Exhausted, b.RunsOut(), b.Stale}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if b.NextReset.Location() != rome || b.Now.Location() != rome {
				t.Errorf("times are not in the caller's zone: %v %v", b.NextReset, b.Now)
			}
		})
	}
}

func TestBalanceRender(t *testing.T) {
	uc := seedCredit()
	kolkata := zoneLoc(t, "Asia/Kolkata") // +05:30: not a whole number of hours from UTC
	b, err := BalanceOf(uc, "dc-rov-01", at("2025-01-08T10:30:00Z"), kolkata)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := b.Render(&out); err != nil {
		t.Fatal(err)
	}
	want := `Credits of amedeo.setti in zone dc-rov-01, at Wed 2025-01-08 16:00 IST
  Weekly budget:  500.00
  Used:           330.00  (300.00 at Wed 2025-01-08 14:30 IST, plus 1h30m at the burn rate)
  Remaining:      170.00
  Burn rate:      20.00 credits/hour
  Runs out:       Thu 2025-01-09 00:30 IST, in 8h30m, at this rate
  Next reset:     Sun 2025-01-12 05:30 IST, in 3d13h
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	held, err := BalanceOf(uc, "dc-rov-01", at("2025-01-09T12:00:00Z"), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := held.Render(&out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"Used:           500.00  (300.00 at Wed 2025-01-08 09:00 UTC; at the burn rate the budget ran out at Wed 2025-01-08 19:00 UTC)", "Remaining:      0.00", "Runs out:       spent: the workloads are held until the reset", "Next reset:     Sun 2025-01-12 00:00 UTC, in 2d12h", "Held:           the weekly budget is spent: workloads in this zone wait for the reset, or ask an administrator to raise spec.credits"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("no %q in:\n%s", line, out.String())
		}
	}
}

func TestRenderBalances(t *testing.T) {
	bs, err := Balances(seedCredit(), at("2025-01-08T10:30:00Z"), zoneLoc(t, "America/New_York"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := RenderBalances(&out, bs, false); err != nil {
		t.Fatal(err)
	}
	want := `ZONE        WEEKLY  USED    REMAINING  BURN/HOUR  RUNS OUT                  NEXT RESET
dc-rov-01   500.00  330.00  170.00     20.00      Wed 2025-01-08 14:00 EST  Sat 2025-01-11 19:00 EST
dc-test-01  none    7.50    -          0.00       -                         Sat 2025-01-11 19:00 EST
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBalanceErrors(t *testing.T) {
	if _, err := BalanceOf(seedCredit(), "dc-other", time.Now(), nil); !errors.Is(err, ErrNoZone) || !strings.Contains(err.Error(), "zones with credits: dc-rov-01, dc-test-01") {
		t.Errorf("unknown zone: %v", err)
	}
	if _, err := BalanceOf(nil, "dc-rov-01", time.Now(), nil); err == nil {
		t.Error("nil UserCredit accepted")
	}
	uc := seedCredit()
	uc.Status.Zones[0].BurnRatePerHour = "fast"
	if _, err := BalanceOf(uc, "dc-rov-01", time.Now(), nil); err == nil || !strings.Contains(err.Error(), "status burnRatePerHour") {
		t.Errorf("bad rate: %v", err)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 0: "0s", 30 * time.Second: "30s", 45*time.Minute + 10*time.Second: "45m",
		9*time.Hour + 30*time.Minute: "9h30m", 3*24*time.Hour + 14*time.Hour + 59*time.Minute: "3d14h",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestUsage(t *testing.T) {
	rome := zoneLoc(t, "Europe/Rome")
	weeks, err := Usage(seedCredit(), "dc-rov-01", rome)
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		Week              int
		Start, End        string
		Products          int
		GPUHours, Credits string
	}
	var got []line
	for _, w := range weeks {
		got = append(got, line{w.Week, w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339), len(w.Products), w.GPUHours.String(), w.Credits.String()})
	}
	want := []line{
		{0, "2025-01-05T01:00:00+01:00", "2025-01-12T01:00:00+01:00", 2, "132.50", "300.00"},
		{1, "2024-12-29T01:00:00+01:00", "2025-01-05T01:00:00+01:00", 1, "200.00", "500.00"},
		{2, "2024-12-22T01:00:00+01:00", "2024-12-29T01:00:00+01:00", 1, "10.25", "25.63"},
		{4, "2024-12-08T01:00:00+01:00", "2024-12-15T01:00:00+01:00", 1, "1.00", "4.00"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	var table bytes.Buffer
	if err := RenderUsage(&table, weeks, false); err != nil {
		t.Fatal(err)
	}
	wantTable := `WEEK  FROM                  TO                          PRODUCT                GPU-HOURS  CREDITS
0     2025-01-05 01:00 CET  now (2025-01-08 10:00 CET)  Quadro RTX 6000        12.50      0.00
0     2025-01-05 01:00 CET  now (2025-01-08 10:00 CET)  Tesla V100-SXM2-16GB   120.00     300.00
0     2025-01-05 01:00 CET  now (2025-01-08 10:00 CET)  total                  132.50     300.00
1     2024-12-29 01:00 CET  2025-01-05 01:00 CET        Tesla V100-SXM2-16GB   200.00     500.00
2     2024-12-22 01:00 CET  2024-12-29 01:00 CET        Tesla V100-SXM2-16GB   10.25      25.63
4     2024-12-08 01:00 CET  2024-12-15 01:00 CET        NVIDIA H100 80GB HBM3  1.00       4.00
`
	if diff := cmp.Diff(wantTable, table.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}

	var csvOut bytes.Buffer
	if err := WriteUsageCSV(&csvOut, weeks); err != nil {
		t.Fatal(err)
	}
	wantCSV := `week,week_start,week_end,product,gpu_hours,credits
0,2025-01-05T01:00:00+01:00,2025-01-08T10:00:00+01:00,Quadro RTX 6000,12.50,0.00
0,2025-01-05T01:00:00+01:00,2025-01-08T10:00:00+01:00,Tesla V100-SXM2-16GB,120.00,300.00
1,2024-12-29T01:00:00+01:00,2025-01-05T01:00:00+01:00,Tesla V100-SXM2-16GB,200.00,500.00
2,2024-12-22T01:00:00+01:00,2024-12-29T01:00:00+01:00,Tesla V100-SXM2-16GB,10.25,25.63
4,2024-12-08T01:00:00+01:00,2024-12-15T01:00:00+01:00,NVIDIA H100 80GB HBM3,1.00,4.00
`
	if diff := cmp.Diff(wantCSV, csvOut.String()); diff != "" {
		t.Errorf("csv (-want +got):\n%s", diff)
	}
}

func TestSelectWeek(t *testing.T) {
	loc := time.UTC
	weeks, err := Usage(seedCredit(), "dc-rov-01", loc)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		spec      string
		week      int
		start     string
		products  int
		wantError string
	}{
		{spec: "0", week: 0, start: "2025-01-05", products: 2},
		{spec: "1", week: 1, start: "2024-12-29", products: 1},
		{spec: "3", week: 3, start: "2024-12-15", products: 0},
		{spec: "4", week: 4, start: "2024-12-08", products: 1},
		{spec: "9", week: 9, start: "2024-11-03", products: 0},
		{spec: "2025-01-08", week: 0, start: "2025-01-05", products: 2},
		{spec: "2025-01-05", week: 0, start: "2025-01-05", products: 2},
		{spec: "2025-01-04", week: 1, start: "2024-12-29", products: 1},
		{spec: "2024-12-20", week: 3, start: "2024-12-15", products: 0},
		{spec: "2024-12-10", week: 4, start: "2024-12-08", products: 1},
		{spec: "2024-12-22T00:00:00Z", week: 2, start: "2024-12-22", products: 1},
		{spec: "2025-01-12", wantError: "after this week"},
		{spec: "last", wantError: "give a number of weeks back"},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := SelectWeek(weeks, tc.spec, loc)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("error = %v, want %q", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Week != tc.week || got[0].Start.Format("2006-01-02") != tc.start || len(got[0].Products) != tc.products {
				t.Fatalf("got %+v", got)
			}
		})
	}
	if all, err := SelectWeek(weeks, "", loc); err != nil || len(all) != len(weeks) {
		t.Errorf("no --week: %d weeks, %v", len(all), err)
	}

	// With 8 weeks kept, an older week is not known any more: an error, not an empty week.
	uc := seedCredit()
	z := &uc.Status.Zones[0]
	z.History = nil
	for i := 1; i <= KeptWeeks; i++ {
		z.History = append(z.History, doradev1.WeekCredits{WeekStart: metav1.NewTime(at("2025-01-05T00:00:00Z").AddDate(0, 0, -7*i)),
			Products: []doradev1.ProductCredits{{Product: "Tesla V100-SXM2-16GB", GPUHours: "1", Credits: "2.5"}}})
	}
	full, err := Usage(uc, "dc-rov-01", loc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SelectWeek(full, "9", loc); err == nil || !strings.Contains(err.Error(), "the week of 2024-11-03 is no longer kept: the UserCredit keeps the last 8 weeks with usage, the oldest from 2024-11-10") {
		t.Errorf("too old: %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	uc := seedCredit()
	uc.Status.Zones[0].History[1].Products[0].Credits = "lots"
	if _, err := Usage(uc, "dc-rov-01", nil); err == nil || !strings.Contains(err.Error(), "status.zones[dc-rov-01].history[1][0].credits") {
		t.Errorf("bad credits: %v", err)
	}
	if _, err := Usage(seedCredit(), "nowhere", nil); !errors.Is(err, ErrNoZone) {
		t.Errorf("unknown zone: %v", err)
	}
}
