package credits

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// DisplayPlaces is how many decimal places String shows: credits are displayed to the cent.
const DisplayPlaces = 2

// secondsPerHour converts GPU-seconds to GPU-hours.
const secondsPerHour = 3600

// maxExponent bounds the exponent of an amount such as 2.5e3, so that text like 1e999999999
// cannot make the arithmetic build a number with a billion digits.
const maxExponent = 100

// Errors that ParseAmount, ParseNonNegative and Number.Amount wrap.
var (
	// ErrNotANumber: the text is not a decimal number such as 2.5.
	ErrNotANumber = errors.New("not a decimal number")
	// ErrNegative: a negative number where only zero or more is allowed.
	ErrNegative = errors.New("negative")
	// ErrNotFiniteDecimal: the number has no exact decimal text, such as 1/3.
	ErrNotFiniteDecimal = errors.New("not a finite decimal")
)

// amountText is the JSON number grammar that doradev1.Amount holds. big.Rat's own parser
// takes more (fractions such as 1/3, hexadecimal), which an Amount must not be.
var amountText = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE]([-+]?[0-9]+))?$`)

// Number is an exact rational number: credits, credits per GPU-hour or GPU-hours, as the
// name that holds it says. The zero value is 0. A Number is immutable: every operation
// returns a new one and never changes its operands, so Numbers may be shared and copied.
type Number struct {
	// rat is nil for 0, and never modified once a Number holds it.
	rat *big.Rat
}

// ParseAmount reads an Amount's decimal text exactly. The empty Amount is 0, as it is
// written as JSON. Text that is not a decimal number wraps ErrNotANumber.
func ParseAmount(a doradev1.Amount) (Number, error) {
	if a == "" {
		return Number{}, nil
	}
	m := amountText.FindStringSubmatch(string(a))
	if m == nil {
		return Number{}, fmt.Errorf("amount %q: %w, such as 2.5", string(a), ErrNotANumber)
	}
	if m[4] != "" {
		exp, err := strconv.Atoi(m[4])
		if err != nil || exp > maxExponent || exp < -maxExponent {
			return Number{}, fmt.Errorf("amount %q: %w: its exponent must be within ±%d", string(a), ErrNotANumber, maxExponent)
		}
	}
	r, ok := new(big.Rat).SetString(string(a))
	if !ok {
		return Number{}, fmt.Errorf("amount %q: %w, such as 2.5", string(a), ErrNotANumber)
	}
	return Number{rat: r}, nil
}

// ParseNonNegative reads an Amount that must not be below zero, as prices and budgets:
// ParseAmount, and a negative number wraps ErrNegative.
func ParseNonNegative(a doradev1.Amount) (Number, error) {
	n, err := ParseAmount(a)
	if err != nil {
		return Number{}, err
	}
	if n.Sign() < 0 {
		return Number{}, fmt.Errorf("amount %q: %w: it must be 0 or more", string(a), ErrNegative)
	}
	return n, nil
}

// Canonical is the shortest exact text of an amount, so that the same price written as 2.5,
// 2.50 or 25e-1 is one price: the ledger keys GPU-seconds by it.
func Canonical(a doradev1.Amount) (doradev1.Amount, error) {
	n, err := ParseAmount(a)
	if err != nil {
		return "", err
	}
	// Decimal text always has an exact decimal form.
	return n.Amount()
}

// Int is the integer n.
func Int(n int64) Number { return Number{rat: new(big.Rat).SetInt64(n)} }

// Ratio is num/den. It panics if den is 0, as big.Rat does.
func Ratio(num, den int64) Number { return Number{rat: big.NewRat(num, den)} }

// Charge is what gpuSeconds cost at perHour credits per GPU-hour: gpuSeconds x perHour / 3600,
// exactly.
func Charge(gpuSeconds int64, perHour Number) Number {
	return perHour.MulInt(gpuSeconds).div(Int(secondsPerHour))
}

// Hours is seconds as exact hours.
func Hours(seconds int64) Number { return Ratio(seconds, secondsPerHour) }

// r is the value as a big.Rat, to be read and never modified.
func (n Number) r() *big.Rat {
	if n.rat == nil {
		return new(big.Rat)
	}
	return n.rat
}

// Rat is the value as a new big.Rat the caller may modify.
func (n Number) Rat() *big.Rat { return new(big.Rat).Set(n.r()) }

// Add is n + o.
func (n Number) Add(o Number) Number { return Number{rat: new(big.Rat).Add(n.r(), o.r())} }

// Sub is n - o.
func (n Number) Sub(o Number) Number { return Number{rat: new(big.Rat).Sub(n.r(), o.r())} }

// Mul is n x o.
func (n Number) Mul(o Number) Number { return Number{rat: new(big.Rat).Mul(n.r(), o.r())} }

// MulInt is n x k.
func (n Number) MulInt(k int64) Number { return n.Mul(Int(k)) }

// div is n / o, for o not 0.
func (n Number) div(o Number) Number { return Number{rat: new(big.Rat).Quo(n.r(), o.r())} }

// Cmp is -1, 0 or +1 as n is less than, equal to or greater than o.
func (n Number) Cmp(o Number) int { return n.r().Cmp(o.r()) }

// Equal reports whether n and o are the same number (cmp.Diff uses it).
func (n Number) Equal(o Number) bool { return n.Cmp(o) == 0 }

// Sign is -1, 0 or +1 as n is negative, zero or positive.
func (n Number) Sign() int { return n.r().Sign() }

// Max is the larger of n and o.
func (n Number) Max(o Number) Number {
	if n.Cmp(o) >= 0 {
		return n
	}
	return o
}

// Format is n for display with places decimal places (0 if places is negative), rounded
// half away from zero: 0.005 is 0.01 and -0.005 is -0.01. A number that rounds to zero is
// shown without a sign. Rounding happens here only; no stored value is ever rounded.
func (n Number) Format(places int) string {
	places = max(places, 0)
	s := n.r().FloatString(places) // rounds half away from zero
	if strings.HasPrefix(s, "-") && strings.Trim(s, "-0.") == "" {
		return s[1:]
	}
	return s
}

// String is n for display, to DisplayPlaces places.
func (n Number) String() string { return n.Format(DisplayPlaces) }

// Amount is n as exact decimal text, with no trailing zeros (2.5, 500, 0.000125). A number
// with no finite decimal form, such as 1 GPU-second at 2.5 per hour (1/1440), wraps
// ErrNotFiniteDecimal: keep the GPU-seconds instead, or Format it for display.
func (n Number) Amount() (doradev1.Amount, error) {
	r := n.r()
	den := new(big.Int).Set(r.Denom())
	// A reduced fraction is a finite decimal when its denominator is 2^a x 5^b; it then
	// needs max(a, b) places.
	places := 0
	for _, p := range []int64{2, 5} {
		prime, count := big.NewInt(p), 0
		for rem := new(big.Int); ; count++ {
			q, m := new(big.Int).QuoRem(den, prime, rem)
			if m.Sign() != 0 {
				break
			}
			den = q
		}
		places = max(places, count)
	}
	if den.Cmp(big.NewInt(1)) != 0 {
		return "", fmt.Errorf("%s: %w", r.RatString(), ErrNotFiniteDecimal)
	}
	return doradev1.Amount(n.Format(places)), nil
}
