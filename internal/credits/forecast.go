package credits

import (
	"math"
	"math/big"
	"time"
)

// The CreditsLow thresholds, in percent of the weekly budget.
const (
	// LowPercent is the first warning: 80% of the week's budget spent.
	LowPercent = 80
	// VeryLowPercent is the second: 90% spent.
	VeryLowPercent = 90
)

// Threshold is when used credits reach a share of the weekly budget.
type Threshold struct {
	// Percent is the share of the budget, in percent.
	Percent int64
	// Reached is true when used is already at or past it.
	Reached bool
	// At is the first whole second at which used reaches it: now's second once reached; zero
	// when it is not reached before the reset at the current burn rate (never, at a rate of
	// 0).
	At time.Time
}

// Forecast is where a user's week stands at one instant, and when it changes next if the
// pods keep running as they do.
type Forecast struct {
	// Remaining is weekly minus used, never below zero.
	Remaining Number
	// Exhausted is true when used is at or past weekly (a budget of 0 is always exhausted).
	Exhausted bool
	// ExhaustsAt is the first whole second at which used reaches weekly: now's second once
	// exhausted; zero when not before the reset at the current burn rate.
	ExhaustsAt time.Time
	// Low and VeryLow are the CreditsLow thresholds, LowPercent and VeryLowPercent.
	Low, VeryLow Threshold
	// Reset is when the week ends.
	Reset time.Time
}

// BurnRate is the credits per hour the pods spend at now: GPUs x price per hour of every
// running pod, at the prices in force at now. An unpriced product burns nothing.
func BurnRate(pods []PodUsage, now time.Time, prices Prices) Number {
	var rate Number
	for _, p := range pods {
		if !p.Running(now) {
			continue
		}
		perHour := prices[p.Product].At(now)
		if perHour == Unpriced {
			continue
		}
		// NewPriceHistory checked the prices.
		n, _ := ParseAmount(perHour)
		rate = rate.Add(n.MulInt(p.GPUs))
	}
	return rate
}

// Remaining is weekly minus used, never below zero.
func Remaining(used, weekly Number) Number { return weekly.Sub(used).Max(Number{}) }

// Predict is the forecast at now for a week that ends at reset (zero: no end), from the
// credits used so far (Total at now), the weekly budget and the burn rate in credits per
// hour (BurnRate at now).
// Time is charged by whole seconds, so the predictions are exact to the second for as long
// as the same pods run at the same prices; a change of either asks for a new forecast.
func Predict(used, weekly, perHour Number, now, reset time.Time) Forecast {
	threshold := func(percent int64) Threshold {
		target := weekly.MulInt(percent).div(Int(100))
		at, ok := reachedAt(used, target, perHour, now, reset)
		t := Threshold{Percent: percent, Reached: used.Cmp(target) >= 0}
		if ok {
			t.At = at
		}
		return t
	}
	f := Forecast{
		Remaining: Remaining(used, weekly),
		Exhausted: used.Cmp(weekly) >= 0,
		Low:       threshold(LowPercent),
		VeryLow:   threshold(VeryLowPercent),
		Reset:     reset,
	}
	if at, ok := reachedAt(used, weekly, perHour, now, reset); ok {
		f.ExhaustsAt = at
	}
	return f
}

// Next is the first instant after now at which the forecast changes by itself: a threshold
// or the budget reached, or the reset. It is when the controller looks again; zero when
// nothing is ahead and the forecast has no reset.
func (f Forecast) Next(now time.Time) time.Time {
	next := f.Reset
	for _, at := range []time.Time{f.Low.At, f.VeryLow.At, f.ExhaustsAt} {
		if !at.IsZero() && at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

// reachedAt is the first whole second at which used, growing by perHour credits an hour from
// now's second, reaches target: the smallest whole number of seconds k with
// used + perHour x k / 3600 >= target, that is k = ceil((target - used) x 3600 / perHour).
// ok is false when that is never (a rate of 0) or not before reset (unless reset is zero).
func reachedAt(used, target, perHour Number, now, reset time.Time) (time.Time, bool) {
	start := now.Unix()
	if used.Cmp(target) >= 0 {
		return time.Unix(start, 0).UTC(), true
	}
	if perHour.Sign() <= 0 {
		return time.Time{}, false
	}
	seconds := target.Sub(used).MulInt(secondsPerHour).div(perHour).r()
	k := ceil(seconds)
	if !k.IsInt64() || k.Int64() > math.MaxInt64-start {
		return time.Time{}, false
	}
	at := time.Unix(start+k.Int64(), 0).UTC()
	if !reset.IsZero() && !at.Before(reset) {
		return time.Time{}, false
	}
	return at, true
}

// ceil is the smallest integer at or above the positive r.
func ceil(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}
