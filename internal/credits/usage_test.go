package credits

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	v100 = "Tesla V100-SXM2-16GB"
	a100 = "NVIDIA A100-SXM4-80GB"
)

func TestPieces(t *testing.T) {
	rome := zone(t, "Europe/Rome")
	// Dora's week: it resets on Sunday 8 March 2026 at 00:00 UTC.
	reset := utc(t, "2026-03-08 00:00:00")
	lastWeek, thisWeek := utc(t, "2026-03-01 00:00:00"), reset
	priceChange := utc(t, "2026-03-08 06:00:00")
	prices := Prices{
		v100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "2.5"}, PricePeriod{Since: priceChange, PerHour: "3"}),
		a100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "4"}),
	}
	forever, never := utc(t, "2000-01-01 00:00:00"), utc(t, "2100-01-01 00:00:00")
	cases := map[string]struct {
		pod      PodUsage
		from, to time.Time
		now      time.Time
		week     Week
		want     []Piece
	}{
		"a finished pod: GPUs x seconds of its own times": {
			pod:  PodUsage{Product: a100, GPUs: 2, Start: utc(t, "2026-03-03 10:00:00"), End: utc(t, "2026-03-03 11:30:00")},
			from: forever, to: never, now: utc(t, "2026-03-05 00:00:00"), week: DefaultWeek(),
			want: []Piece{{
				From: utc(t, "2026-03-03 10:00:00"), To: utc(t, "2026-03-03 11:30:00"), WeekStart: lastWeek,
				Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 2 * 5400},
			}},
		},
		"a running pod is charged up to now": {
			pod:  PodUsage{Product: a100, GPUs: 1, Start: utc(t, "2026-03-03 10:00:00")},
			from: forever, to: never, now: utc(t, "2026-03-03 10:00:42"), week: DefaultWeek(),
			want: []Piece{{
				From: utc(t, "2026-03-03 10:00:00"), To: utc(t, "2026-03-03 10:00:42"), WeekStart: lastWeek,
				Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 42},
			}},
		},
		"a finished pod costs the same whatever now is": {
			pod:  PodUsage{Product: a100, GPUs: 1, Start: utc(t, "2026-03-03 10:00:00"), End: utc(t, "2026-03-03 10:01:00")},
			from: forever, to: never, now: utc(t, "2026-03-03 10:00:30"), week: DefaultWeek(),
			want: []Piece{{
				From: utc(t, "2026-03-03 10:00:00"), To: utc(t, "2026-03-03 10:01:00"), WeekStart: lastWeek,
				Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 60},
			}},
		},
		"clipped to the interval asked for": {
			pod:  PodUsage{Product: a100, GPUs: 3, Start: utc(t, "2026-03-03 10:00:00"), End: utc(t, "2026-03-03 12:00:00")},
			from: utc(t, "2026-03-03 11:00:00"), to: utc(t, "2026-03-03 11:00:10"), now: never, week: DefaultWeek(),
			want: []Piece{{
				From: utc(t, "2026-03-03 11:00:00"), To: utc(t, "2026-03-03 11:00:10"), WeekStart: lastWeek,
				Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 30},
			}},
		},
		"instants count by whole seconds: 10:00:00.9 to 10:00:02.1 is two seconds": {
			pod: PodUsage{
				Product: a100, GPUs: 1,
				Start: utc(t, "2026-03-03 10:00:00").Add(900 * time.Millisecond), End: utc(t, "2026-03-03 10:00:02").Add(100 * time.Millisecond),
			},
			from: forever, to: never, now: never, week: DefaultWeek(),
			want: []Piece{{
				From: utc(t, "2026-03-03 10:00:00"), To: utc(t, "2026-03-03 10:00:02"), WeekStart: lastWeek,
				Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 2},
			}},
		},
		"a pod running across the reset splits into the two weeks": {
			pod:  PodUsage{Product: a100, GPUs: 2, Start: utc(t, "2026-03-07 23:00:00"), End: utc(t, "2026-03-08 01:00:00")},
			from: forever, to: never, now: never, week: DefaultWeek(),
			want: []Piece{
				{From: utc(t, "2026-03-07 23:00:00"), To: reset, WeekStart: lastWeek, Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 7200}},
				{From: reset, To: utc(t, "2026-03-08 01:00:00"), WeekStart: thisWeek, Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 7200}},
			},
		},
		"a price change mid-interval: the new price from its second": {
			pod:  PodUsage{Product: v100, GPUs: 1, Start: utc(t, "2026-03-08 05:00:00"), End: utc(t, "2026-03-08 07:00:00")},
			from: forever, to: never, now: never, week: DefaultWeek(),
			want: []Piece{
				{From: utc(t, "2026-03-08 05:00:00"), To: priceChange, WeekStart: thisWeek, Entry: Entry{Product: v100, PerHour: "2.5", GPUSeconds: 3600}},
				{From: priceChange, To: utc(t, "2026-03-08 07:00:00"), WeekStart: thisWeek, Entry: Entry{Product: v100, PerHour: "3", GPUSeconds: 3600}},
			},
		},
		"intervals x prices x week boundaries: a reset and a price change in one pod": {
			pod:  PodUsage{Product: v100, GPUs: 4, Start: utc(t, "2026-03-07 22:00:00"), End: utc(t, "2026-03-08 07:00:00")},
			from: forever, to: never, now: never, week: DefaultWeek(),
			want: []Piece{
				{From: utc(t, "2026-03-07 22:00:00"), To: reset, WeekStart: lastWeek, Entry: Entry{Product: v100, PerHour: "2.5", GPUSeconds: 4 * 2 * 3600}},
				{From: reset, To: priceChange, WeekStart: thisWeek, Entry: Entry{Product: v100, PerHour: "2.5", GPUSeconds: 4 * 6 * 3600}},
				{From: priceChange, To: utc(t, "2026-03-08 07:00:00"), WeekStart: thisWeek, Entry: Entry{Product: v100, PerHour: "3", GPUSeconds: 4 * 3600}},
			},
		},
		"a reset in Rome on the day clocks jump: 02:30 is read as 02:30 CET, 01:30 UTC": {
			pod:  PodUsage{Product: a100, GPUs: 1, Start: at(t, "2026-03-29 01:00 +0100"), End: at(t, "2026-03-29 04:00 +0200")},
			from: forever, to: never, now: never, week: Week{Hour: 2, Minute: 30, Location: rome},
			want: []Piece{
				{From: at(t, "2026-03-29 00:00 +0000"), To: at(t, "2026-03-29 01:30 +0000"), WeekStart: at(t, "2026-03-22 02:30 +0100"), Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 5400}},
				{From: at(t, "2026-03-29 01:30 +0000"), To: at(t, "2026-03-29 02:00 +0000"), WeekStart: at(t, "2026-03-29 03:30 +0200"), Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 1800}},
			},
		},
		"a reset in Rome on the day clocks fall back: the first 02:30, CEST": {
			pod:  PodUsage{Product: a100, GPUs: 1, Start: at(t, "2026-10-25 02:00 +0200"), End: at(t, "2026-10-25 02:45 +0100")},
			from: forever, to: never, now: never, week: Week{Hour: 2, Minute: 30, Location: rome},
			want: []Piece{
				{From: at(t, "2026-10-25 00:00 +0000"), To: at(t, "2026-10-25 00:30 +0000"), WeekStart: at(t, "2026-10-18 02:30 +0200"), Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 1800}},
				{From: at(t, "2026-10-25 00:30 +0000"), To: at(t, "2026-10-25 01:45 +0000"), WeekStart: at(t, "2026-10-25 02:30 +0200"), Entry: Entry{Product: a100, PerHour: "4", GPUSeconds: 4500}},
			},
		},
		"an unpriced product is metered at no price": {
			pod:  PodUsage{Product: "Quadro RTX 6000", GPUs: 1, Start: utc(t, "2026-03-03 10:00:00"), End: utc(t, "2026-03-03 10:10:00")},
			from: forever, to: never, now: never, week: DefaultWeek(),
			want: []Piece{{
				From: utc(t, "2026-03-03 10:00:00"), To: utc(t, "2026-03-03 10:10:00"), WeekStart: lastWeek,
				Entry: Entry{Product: "Quadro RTX 6000", PerHour: Unpriced, GPUSeconds: 600},
			}},
		},
		"a pod that never started costs nothing": {
			pod:  PodUsage{Product: a100, GPUs: 1},
			from: forever, to: never, now: never, week: DefaultWeek(),
		},
		"a pod with no GPUs costs nothing": {
			pod:  PodUsage{Product: a100, Start: utc(t, "2026-03-03 10:00:00")},
			from: forever, to: never, now: never, week: DefaultWeek(),
		},
		"a running pod not yet started at now costs nothing": {
			pod:  PodUsage{Product: a100, GPUs: 1, Start: utc(t, "2026-03-03 10:00:00")},
			from: forever, to: never, now: utc(t, "2026-03-03 09:00:00"), week: DefaultWeek(),
		},
		"an end before the start costs nothing": {
			pod:  PodUsage{Product: a100, GPUs: 1, Start: utc(t, "2026-03-03 10:00:00"), End: utc(t, "2026-03-03 09:00:00")},
			from: forever, to: never, now: never, week: DefaultWeek(),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := tc.pod.Pieces(tc.from, tc.to, tc.now, tc.week, prices)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Pieces (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEntries(t *testing.T) {
	change := utc(t, "2026-03-04 12:00:00")
	prices := Prices{v100: history(t,
		PricePeriod{Since: utc(t, "2026-03-01 00:00:00"), PerHour: "2.5"},
		PricePeriod{Since: change, PerHour: "3"},
		PricePeriod{Since: change.Add(time.Hour), PerHour: "2.5"},
	)}
	pod := PodUsage{Product: v100, GPUs: 2, Start: change.Add(-time.Hour), End: change.Add(2 * time.Hour)}
	got := pod.Entries(utc(t, "2026-03-01 00:00:00"), utc(t, "2026-03-08 00:00:00"), change, prices)
	want := []Entry{
		{Product: v100, PerHour: "2.5", GPUSeconds: 2 * 2 * 3600}, // before and after the hour at 3
		{Product: v100, PerHour: "3", GPUSeconds: 2 * 3600},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Entries: one per price, sorted (-want +got):\n%s", diff)
	}
}

func TestRunning(t *testing.T) {
	start := utc(t, "2026-03-03 10:00:00")
	cases := map[string]struct {
		pod  PodUsage
		now  time.Time
		want bool
	}{
		"started, not ended":       {pod: PodUsage{GPUs: 1, Start: start}, now: start, want: true},
		"ended":                    {pod: PodUsage{GPUs: 1, Start: start, End: start.Add(time.Minute)}, now: start},
		"not yet started":          {pod: PodUsage{GPUs: 1}, now: start},
		"starting after now":       {pod: PodUsage{GPUs: 1, Start: start.Add(time.Second)}, now: start},
		"no GPUs: nothing to burn": {pod: PodUsage{Start: start}, now: start},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.pod.Running(tc.now); got != tc.want {
				t.Errorf("Running = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzSplittingNeverChangesTheTotal: cutting a pod's time anywhere, and reading it in two
// parts, gives the same GPU-seconds and credits per week, product and price as reading it
// whole, and the whole is GPUs x its seconds. Price changes, a Rome week with daylight saving
// resets and sub-second instants are all in play.
func FuzzSplittingNeverChangesTheTotal(f *testing.F) {
	rome := zone(f, "Europe/Rome")
	week := Week{Hour: 2, Minute: 30, Location: rome}
	base := at(f, "2026-03-20 00:00 +0000")
	prices := Prices{v100: history(f,
		PricePeriod{Since: base.Add(3 * 24 * time.Hour), PerHour: "2.5"},
		PricePeriod{Since: base.Add(9*24*time.Hour + 1234*time.Second), PerHour: "3.75"},
		PricePeriod{Since: base.Add(15 * 24 * time.Hour), PerHour: Unpriced},
		PricePeriod{Since: base.Add(16 * 24 * time.Hour), PerHour: "0.001"},
	)}
	f.Add(int64(0), int64(3600_000), int64(1800_000), int64(1))
	f.Add(int64(8*24*3600_000), int64(2*24*3600_000), int64(777_777), int64(8))           // across the spring reset
	f.Add(int64(2*24*3600_000+1), int64(20*24*3600_000), int64(12*24*3600_000), int64(3)) // every change
	f.Fuzz(func(t *testing.T, startMillis, lengthMillis, cutMillis, gpus int64) {
		const span = 30 * 24 * 3600_000 // a month of milliseconds
		if startMillis < 0 || startMillis > span || lengthMillis < 0 || lengthMillis > span || cutMillis < 0 || cutMillis > lengthMillis || gpus < 0 || gpus > 64 {
			return
		}
		start := base.Add(time.Duration(startMillis) * time.Millisecond)
		end := start.Add(time.Duration(lengthMillis) * time.Millisecond)
		cut := start.Add(time.Duration(cutMillis) * time.Millisecond)
		pod := PodUsage{UID: "p", Product: v100, GPUs: gpus, Start: start, End: end}
		whole := byWeek(pod.Pieces(start, end, end, week, prices))
		parts := byWeek(append(pod.Pieces(start, cut, end, week, prices), pod.Pieces(cut, end, end, week, prices)...))
		if diff := cmp.Diff(whole, parts); diff != "" {
			t.Fatalf("cut at %s: (-whole +parts):\n%s", cut, diff)
		}
		var seconds int64
		var credits Number
		for _, l := range whole {
			seconds += l.GPUSeconds()
			credits = credits.Add(l.Credits())
		}
		if want := gpus * (end.Unix() - start.Unix()); seconds != want {
			t.Fatalf("%d GPU-seconds, want GPUs x seconds = %d", seconds, want)
		}
		var pieceCredits Number
		for _, p := range pod.Pieces(start, end, end, week, prices) {
			pieceCredits = pieceCredits.Add(p.Credits())
		}
		if !pieceCredits.Equal(credits) {
			t.Fatalf("pieces cost %s, the ledgers %s", pieceCredits.Rat().RatString(), credits.Rat().RatString())
		}
	})
}

// byWeek is the pieces in one ledger per week, keyed by the week's start in Unix seconds.
func byWeek(pieces []Piece) map[int64]Ledger {
	ledgers := map[int64]Ledger{}
	for _, p := range pieces {
		l := ledgers[p.WeekStart.Unix()]
		l.Add(p.Entry)
		ledgers[p.WeekStart.Unix()] = l
	}
	return ledgers
}
