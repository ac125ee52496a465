package credits

import (
	"time"
)

// SafeCheck is safe mode's question about a workload that has not started: can its owner
// pay for it to run as long as it may, at the highest price of the models it may get?
type SafeCheck struct {
	// Units are the GPUs of all its replicas together.
	Units int64
	// PerHour is the highest current price of a GPU-hour of the models it may get.
	PerHour Number
	// Duration is how long it may run: its maxRunTime, else until the week resets (it is
	// held then at the latest).
	Duration time.Duration
}

// Cost is what the workload costs if it runs for all of Duration: Units x PerHour x the
// whole seconds of Duration.
func (c SafeCheck) Cost() Number {
	return Charge(c.Units*int64(c.Duration/time.Second), c.PerHour)
}

// LeftAt is what a user has left at now, from the UserCredit's remaining at asOf and the
// burn rate since (pods kept running as they were): never below zero.
func LeftAt(remaining, ratePerHour Number, asOf, now time.Time) Number {
	elapsed := now.Unix() - asOf.Unix()
	if elapsed <= 0 {
		return remaining.Max(Number{})
	}
	return remaining.Sub(Charge(elapsed, ratePerHour)).Max(Number{})
}

// Fits reports whether the workload's cost is within what is left.
func (c SafeCheck) Fits(left Number) bool { return c.Cost().Cmp(left) <= 0 }
