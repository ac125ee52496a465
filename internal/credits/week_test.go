package credits

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests' zones, whatever the machine has installed
)

// zone loads an IANA time zone.
func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

// at is the instant written as "2006-01-02 15:04 -0700": the offset says which of two equal
// wall times is meant.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04 -0700", s)
	if err != nil {
		t.Fatalf("time.Parse(%q): %v", s, err)
	}
	return v
}

func TestParseWeek(t *testing.T) {
	rome := zone(t, "Europe/Rome")
	cases := map[string]struct {
		day, at, zone string
		want          Week
		wantErr       string
	}{
		"no flags: Dora's Sunday 00:00 UTC":   {want: DefaultWeek()},
		"the defaults written out":            {day: "Sunday", at: "00:00", zone: "UTC", want: DefaultWeek()},
		"a weekday in any case":               {day: "MONDAY", want: Week{Day: time.Monday, Location: time.UTC}},
		"a weekday's three letters":           {day: "sat", want: Week{Day: time.Saturday, Location: time.UTC}},
		"a one-digit hour":                    {at: "2:30", want: Week{Hour: 2, Minute: 30, Location: time.UTC}},
		"the last minute of the day":          {at: "23:59", want: Week{Hour: 23, Minute: 59, Location: time.UTC}},
		"an IANA zone":                        {day: "Sunday", at: "02:30", zone: "Europe/Rome", want: Week{Hour: 2, Minute: 30, Location: rome}},
		"a misspelt weekday names its flag":   {day: "Sundy", wantErr: `--credits-reset-day="Sundy": not a weekday: use one of Sunday`},
		"a weekday number is not a name":      {day: "0", wantErr: "--credits-reset-day"},
		"hour 24 is not a time of day":        {at: "24:00", wantErr: `--credits-reset-time="24:00": week reset time 24:00 is not a time of day: use 00:00 to 23:59`},
		"minute 60 is not a time of day":      {at: "12:60", wantErr: "--credits-reset-time"},
		"words are not a time of day":         {at: "noon", wantErr: `--credits-reset-time="noon": not a time of day: use HH:MM`},
		"seconds are not taken":               {at: "00:00:00", wantErr: "--credits-reset-time"},
		"an unknown zone names its flag":      {zone: "Mars/Olympus_Mons", wantErr: `--credits-reset-zone="Mars/Olympus_Mons": not an IANA time zone`},
		"the machine's zone is refused":       {zone: "Local", wantErr: `--credits-reset-zone="Local": name the zone`},
		"an abbreviation is not an IANA zone": {zone: "CEST", wantErr: "--credits-reset-zone"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseWeek(tc.day, tc.at, tc.zone)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseWeek error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWeek: %v", err)
			}
			if got.String() != tc.want.String() {
				t.Errorf("ParseWeek = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestWeekValidate(t *testing.T) {
	for name, w := range map[string]Week{
		"day 7":     {Day: 7},
		"hour -1":   {Hour: -1},
		"minute 60": {Minute: 60},
	} {
		if err := w.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", name)
		}
	}
	if err := DefaultWeek().Validate(); err != nil {
		t.Errorf("DefaultWeek().Validate() = %v", err)
	}
}

func TestWeekStartAndNext(t *testing.T) {
	rome, santiago, lordHowe := zone(t, "Europe/Rome"), zone(t, "America/Santiago"), zone(t, "Australia/Lord_Howe")
	romeSunday0230 := Week{Day: time.Sunday, Hour: 2, Minute: 30, Location: rome}
	cases := map[string]struct {
		week      Week
		t         string
		wantStart string
		wantNext  string
	}{
		"Dora's week: a Wednesday": {
			week: DefaultWeek(), t: "2026-03-04 12:00 +0000",
			wantStart: "2026-03-01 00:00 +0000", wantNext: "2026-03-08 00:00 +0000",
		},
		"the reset instant begins its week": {
			week: DefaultWeek(), t: "2026-03-08 00:00 +0000",
			wantStart: "2026-03-08 00:00 +0000", wantNext: "2026-03-15 00:00 +0000",
		},
		"the minute before the reset is the old week": {
			week: DefaultWeek(), t: "2026-03-07 23:59 +0000",
			wantStart: "2026-03-01 00:00 +0000", wantNext: "2026-03-08 00:00 +0000",
		},
		"across the year end (time.Date normalises the 34th of December)": {
			week: DefaultWeek(), t: "2026-12-30 08:00 +0000",
			wantStart: "2026-12-27 00:00 +0000", wantNext: "2027-01-03 00:00 +0000",
		},
		"a Monday 09:00 reset read on a Monday before 09:00": {
			week: Week{Day: time.Monday, Hour: 9, Location: time.UTC}, t: "2026-03-02 08:00 +0000",
			wantStart: "2026-02-23 09:00 +0000", wantNext: "2026-03-02 09:00 +0000",
		},
		"the zone's wall clock, not UTC's: Sunday 00:00 in Rome is Saturday 23:00 UTC": {
			week: Week{Location: rome}, t: "2026-02-28 23:30 +0000",
			wantStart: "2026-03-01 00:00 +0100", wantNext: "2026-03-08 00:00 +0100",
		},
		"spring forward after a midnight reset: that week is 167 hours": {
			week: Week{Location: rome}, t: "2026-03-30 12:00 +0200",
			wantStart: "2026-03-29 00:00 +0100", wantNext: "2026-04-05 00:00 +0200",
		},
		"fall back after a midnight reset: that week is 169 hours": {
			week: Week{Location: rome}, t: "2026-10-26 12:00 +0100",
			wantStart: "2026-10-25 00:00 +0200", wantNext: "2026-11-01 00:00 +0100",
		},
		"02:30 does not exist in Rome on 29 March 2026: the reset is at 03:30 CEST (02:30 CET)": {
			week: romeSunday0230, t: "2026-03-28 12:00 +0100",
			wantStart: "2026-03-22 02:30 +0100", wantNext: "2026-03-29 03:30 +0200",
		},
		"in the gap's hour, after the jump, the old week still runs": {
			week: romeSunday0230, t: "2026-03-29 03:10 +0200",
			wantStart: "2026-03-22 02:30 +0100", wantNext: "2026-03-29 03:30 +0200",
		},
		"from 03:30 CEST the new week runs": {
			week: romeSunday0230, t: "2026-03-29 03:30 +0200",
			wantStart: "2026-03-29 03:30 +0200", wantNext: "2026-04-05 02:30 +0200",
		},
		"02:30 happens twice in Rome on 25 October 2026: the reset is the first, 02:30 CEST": {
			week: romeSunday0230, t: "2026-10-25 02:40 +0200",
			wantStart: "2026-10-25 02:30 +0200", wantNext: "2026-11-01 02:30 +0100",
		},
		"the second 02:30, in CET, does not reset again": {
			week: romeSunday0230, t: "2026-10-25 02:30 +0100",
			wantStart: "2026-10-25 02:30 +0200", wantNext: "2026-11-01 02:30 +0100",
		},
		"before the first 02:30 the old week runs": {
			week: romeSunday0230, t: "2026-10-25 02:20 +0200",
			wantStart: "2026-10-18 02:30 +0200", wantNext: "2026-10-25 02:30 +0200",
		},
		"Santiago skips Sunday 00:00 on 6 September 2026: the reset is at 01:00 -03": {
			week: Week{Location: santiago}, t: "2026-09-05 22:00 -0400",
			wantStart: "2026-08-30 00:00 -0400", wantNext: "2026-09-06 01:00 -0300",
		},
		"Santiago repeats Saturday 23:30 on 4 April 2026: the reset is the first": {
			week: Week{Day: time.Saturday, Hour: 23, Minute: 30, Location: santiago}, t: "2026-04-04 23:15 -0400",
			wantStart: "2026-04-04 23:30 -0300", wantNext: "2026-04-11 23:30 -0400",
		},
		"Lord Howe's half-hour change forward: 02:15 is read at +10:30": {
			week: Week{Hour: 2, Minute: 15, Location: lordHowe}, t: "2026-10-01 12:00 +1030",
			wantStart: "2026-09-27 02:15 +1030", wantNext: "2026-10-04 02:45 +1100",
		},
		"Lord Howe's half-hour change back: the first 01:45": {
			week: Week{Hour: 1, Minute: 45, Location: lordHowe}, t: "2026-04-05 01:40 +1030",
			wantStart: "2026-04-05 01:45 +1100", wantNext: "2026-04-12 01:45 +1030",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			now := at(t, tc.t)
			if got, want := tc.week.Start(now), at(t, tc.wantStart); !got.Equal(want) {
				t.Errorf("Start(%s) = %s, want %s", tc.t, got, want.In(tc.week.location()))
			}
			if got, want := tc.week.Next(now), at(t, tc.wantNext); !got.Equal(want) {
				t.Errorf("Next(%s) = %s, want %s", tc.t, got, want.In(tc.week.location()))
			}
		})
	}
}

// TestEveryInstantHasOneWeek: for any instant and any week, Start(t) <= t < Next(t), both
// are resets (the week of a reset begins at it) on the zone's clock, and the week lasts 168
// hours give or take the zone's daylight saving change.
func TestEveryInstantHasOneWeek(t *testing.T) {
	weeks := []Week{DefaultWeek()}
	for _, name := range []string{"Europe/Rome", "America/Santiago", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"} {
		loc := zone(t, name)
		weeks = append(weeks,
			Week{Location: loc},
			Week{Day: time.Sunday, Hour: 2, Minute: 30, Location: loc},
			Week{Day: time.Saturday, Hour: 23, Minute: 30, Location: loc},
			Week{Day: time.Sunday, Hour: 1, Minute: 45, Location: loc},
		)
	}
	rng := rand.New(rand.NewPCG(11, 2026))
	from := at(t, "2025-01-01 00:00 +0000").Unix()
	for range 20000 {
		w := weeks[rng.IntN(len(weeks))]
		now := time.Unix(from+rng.Int64N(3*366*24*3600), 0)
		start, next := w.Start(now), w.Next(now)
		if now.Before(start) || !now.Before(next) {
			t.Fatalf("%s at %s: week [%s, %s) does not hold it", w, now.In(w.location()), start, next)
		}
		if !w.Start(start).Equal(start) || !w.Next(start).Equal(next) || !w.Start(next).Equal(next) {
			t.Fatalf("%s at %s: week [%s, %s) does not begin and end at resets", w, now.In(w.location()), start, next)
		}
		if length := next.Sub(start); length < 167*time.Hour || length > 169*time.Hour {
			t.Fatalf("%s at %s: week [%s, %s) lasts %s", w, now.In(w.location()), start, next, length)
		}
		// A reset shows the configured weekday and time on the zone's clock, unless that
		// time did not exist that day.
		if local := start.In(w.location()); local.Weekday() != w.Day || local.Hour() != w.Hour || local.Minute() != w.Minute {
			year, month, day := local.Date()
			if probe := time.Date(year, month, day, w.Hour, w.Minute, 0, 0, w.location()); probe.Hour() == w.Hour && probe.Minute() == w.Minute {
				t.Fatalf("%s: the week beginning %s begins at a wall time that is not the reset's", w, local)
			}
		}
	}
}
