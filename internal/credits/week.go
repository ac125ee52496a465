package credits

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The manager's flags that configure the week, named in ParseWeek's errors.
const (
	// FlagResetDay is the weekday the week resets on, such as Sunday.
	FlagResetDay = "credits-reset-day"
	// FlagResetTime is the time of day the week resets at, HH:MM on a 24-hour clock.
	FlagResetTime = "credits-reset-time"
	// FlagResetZone is the IANA time zone of the reset, such as Europe/Rome.
	FlagResetZone = "credits-reset-zone"
	// FlagRequireBudget makes a user with no budget in the zone spend nothing, instead of
	// being metered without a limit.
	FlagRequireBudget = "credits-require-budget"
	// FlagSafe is Slurm's safe mode: a workload whose GPUs x price x run time is more than
	// its owner has left does not start.
	FlagSafe = "credits-safe"
)

// Week is when the credit week resets: every Day at Hour:Minute, wall-clock time in Location.
// The zero Week is Dora's: Sunday 00:00 UTC. A nil Location is UTC.
//
// When daylight saving time makes that wall time not exist or exist twice on a reset day,
// the week follows RFC 5545 (iCalendar):
//   - a wall time in the gap of a spring-forward change is read with the UTC offset from
//     before the gap: a reset at 02:30 in Europe/Rome on the day clocks jump from 02:00 to
//     03:00 happens at 03:30 CEST, the instant 02:30 CET would have been;
//   - a wall time that occurs twice, when clocks fall back, is its first occurrence: a reset
//     at 02:30 in Europe/Rome on the day clocks go from 03:00 back to 02:00 happens at
//     02:30 CEST, an hour before the 02:30 CET that follows.
//
// So every calendar week has exactly one reset, and a credit week around such a day is
// shorter or longer than 168 hours by the size of the change. time.Date does not promise
// which instant it picks in either case ("the choice of time zone, and therefore the time,
// is not guaranteed"), so Week decides for itself.
//
// Start and Next expect a valid Week (ParseWeek's, or one that passes Validate).
type Week struct {
	// Day is the weekday of the reset.
	Day time.Weekday
	// Hour is the hour of the reset, 0 to 23.
	Hour int
	// Minute is the minute of the reset, 0 to 59.
	Minute int
	// Location is the time zone of the wall-clock time; nil is UTC.
	Location *time.Location
}

// DefaultWeek is Dora's week: it resets on Sunday at 00:00 UTC.
func DefaultWeek() Week { return Week{Day: time.Sunday, Location: time.UTC} }

// Validate reports a weekday, hour or minute out of range.
func (w Week) Validate() error {
	if w.Day < time.Sunday || w.Day > time.Saturday {
		return fmt.Errorf("week day %d is not a weekday: use 0 (Sunday) to 6 (Saturday)", int(w.Day))
	}
	if w.Hour < 0 || w.Hour > 23 || w.Minute < 0 || w.Minute > 59 {
		return fmt.Errorf("week reset time %02d:%02d is not a time of day: use 00:00 to 23:59", w.Hour, w.Minute)
	}
	return nil
}

// String is the week as the flags write it, such as "Sunday 00:00 UTC".
func (w Week) String() string {
	return fmt.Sprintf("%s %02d:%02d %s", w.Day, w.Hour, w.Minute, w.location())
}

func (w Week) location() *time.Location {
	if w.Location == nil {
		return time.UTC
	}
	return w.Location
}

// Start is the latest reset at or before t: when t's week began.
func (w Week) Start(t time.Time) time.Time {
	year, month, day := w.dayOf(t, -1)
	if r := w.resetOn(year, month, day); !r.After(t) {
		return r
	}
	return w.resetOn(year, month, day-7)
}

// Next is the first reset after t: when t's week ends.
func (w Week) Next(t time.Time) time.Time {
	year, month, day := w.dayOf(t, +1)
	if r := w.resetOn(year, month, day); r.After(t) {
		return r
	}
	return w.resetOn(year, month, day+7)
}

// dayOf is the nearest date with the reset's weekday on or before (direction -1) or on or
// after (+1) the date of t in the week's zone.
func (w Week) dayOf(t time.Time, direction int) (int, time.Month, int) {
	local := t.In(w.location())
	year, month, day := local.Date()
	shift := (int(w.Day) - int(local.Weekday()) + 7) % 7 // days forward to the weekday
	if direction < 0 && shift != 0 {
		shift -= 7
	}
	return year, month, day + shift // time.Date normalises the day
}

// resetOn is the instant of the reset on the given date (the day may be out of range: it is
// normalised), by the RFC 5545 rule in Week's comment.
func (w Week) resetOn(year int, month time.Month, day int) time.Time {
	loc := w.location()
	guess := time.Date(year, month, day, w.Hour, w.Minute, 0, 0, loc)
	wall := time.Date(year, month, day, w.Hour, w.Minute, 0, 0, time.UTC).Unix()
	// The UTC offsets in force half a day either side: zones change offset at most once in
	// such a span, and by less than half a day.
	before := offset(guess.Add(-12*time.Hour), loc)
	after := offset(guess.Add(12*time.Hour), loc)
	if !readsAs(wall, before, loc) && readsAs(wall, after, loc) {
		return time.Unix(wall-int64(after), 0).In(loc)
	}
	// The wall time with the earlier offset: the first of two occurrences, the only one,
	// or, in a gap, the offset from before it.
	return time.Unix(wall-int64(before), 0).In(loc)
}

// offset is the UTC offset of loc at t, in seconds.
func offset(t time.Time, loc *time.Location) int {
	_, off := t.In(loc).Zone()
	return off
}

// readsAs reports whether the wall-clock time wall (seconds, as if in UTC) read with the UTC
// offset off is a real instant in loc: one whose offset is off.
func readsAs(wall int64, off int, loc *time.Location) bool {
	return offset(time.Unix(wall-int64(off), 0), loc) == off
}

// clockTime is HH:MM on a 24-hour clock; the hour may have one digit.
var clockTime = regexp.MustCompile(`^([0-9]{1,2}):([0-9]{2})$`)

// ParseWeek reads the week from the manager's flags: day is a weekday in English (Sunday or
// Sun, in any case), at is HH:MM on a 24-hour clock, zone an IANA time zone such as
// Europe/Rome, or UTC. Empty strings take Dora's defaults (Sunday, 00:00, UTC). Each error
// names its flag and what to write instead.
func ParseWeek(day, at, zone string) (Week, error) {
	w := DefaultWeek()
	if day != "" {
		d, ok := parseWeekday(day)
		if !ok {
			return Week{}, fmt.Errorf("--%s=%q: not a weekday: use one of Sunday, Monday, Tuesday, Wednesday, Thursday, Friday or Saturday", FlagResetDay, day)
		}
		w.Day = d
	}
	if at != "" {
		m := clockTime.FindStringSubmatch(at)
		if m == nil {
			return Week{}, fmt.Errorf("--%s=%q: not a time of day: use HH:MM on a 24-hour clock, such as 00:00 or 02:30", FlagResetTime, at)
		}
		w.Hour, _ = strconv.Atoi(m[1])
		w.Minute, _ = strconv.Atoi(m[2])
		if err := w.Validate(); err != nil {
			return Week{}, fmt.Errorf("--%s=%q: %w", FlagResetTime, at, err)
		}
	}
	if zone != "" {
		// Local is the manager's machine's zone: two replicas could disagree on the week.
		if zone == "Local" {
			return Week{}, fmt.Errorf("--%s=%q: name the zone, such as UTC or Europe/Rome", FlagResetZone, zone)
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return Week{}, fmt.Errorf("--%s=%q: not an IANA time zone, such as UTC or Europe/Rome: %w", FlagResetZone, zone, err)
		}
		w.Location = loc
	}
	return w, nil
}

// parseWeekday reads a weekday's English name or its first three letters, in any case.
func parseWeekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := d.String()
		if strings.EqualFold(s, name) || strings.EqualFold(s, name[:3]) {
			return d, true
		}
	}
	return 0, false
}
