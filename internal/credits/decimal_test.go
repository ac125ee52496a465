package credits

import (
	"errors"
	"testing"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// num is the Number an amount's text holds, for expectations.
func num(t testing.TB, a doradev1.Amount) Number {
	t.Helper()
	n, err := ParseAmount(a)
	if err != nil {
		t.Fatalf("ParseAmount(%q): %v", a, err)
	}
	return n
}

func TestParseAmount(t *testing.T) {
	cases := map[string]struct {
		in      doradev1.Amount
		want    Number
		wantErr error
	}{
		"the seed's price":                     {in: "2.5", want: Ratio(5, 2)},
		"an integer budget":                    {in: "500", want: Int(500)},
		"empty is zero, as it is written":      {in: "", want: Int(0)},
		"an exponent":                          {in: "25e-1", want: Ratio(5, 2)},
		"a tiny price is kept exactly":         {in: "0.000000001", want: Ratio(1, 1_000_000_000)},
		"negative is a number":                 {in: "-1.25", want: Ratio(-5, 4)},
		"text is not a number":                 {in: "cheap", wantErr: ErrNotANumber},
		"a fraction is not decimal text":       {in: "1/3", wantErr: ErrNotANumber},
		"hexadecimal is not decimal text":      {in: "0x10", wantErr: ErrNotANumber},
		"a leading zero is not a JSON number":  {in: "02.5", wantErr: ErrNotANumber},
		"spaces are not part of a number":      {in: " 2.5", wantErr: ErrNotANumber},
		"infinity is not a number":             {in: "Inf", wantErr: ErrNotANumber},
		"a decimal comma is not a number":      {in: "2,5", wantErr: ErrNotANumber},
		"an absurd exponent is refused":        {in: "1e1000000000", wantErr: ErrNotANumber},
		"an exponent at the bound is accepted": {in: "1e-100", want: Int(1).div(Int(10).pow(100))},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseAmount(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ParseAmount(%q) error = %v, want %v", tc.in, err, tc.wantErr)
			}
			if err == nil && !got.Equal(tc.want) {
				t.Errorf("ParseAmount(%q) = %s, want %s", tc.in, got.Rat().RatString(), tc.want.Rat().RatString())
			}
		})
	}
}

// pow is n to the power k, for the test's expectations.
func (n Number) pow(k int) Number {
	out := Int(1)
	for range k {
		out = out.Mul(n)
	}
	return out
}

func TestParseNonNegative(t *testing.T) {
	cases := map[string]struct {
		in      doradev1.Amount
		wantErr error
	}{
		"a price":                      {in: "2.5"},
		"zero: a free product":         {in: "0"},
		"minus zero is zero":           {in: "-0"},
		"a negative price is refused":  {in: "-0.5", wantErr: ErrNegative},
		"text is still not a number":   {in: "free", wantErr: ErrNotANumber},
		"a negative exponent is small": {in: "5e-3"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseNonNegative(tc.in); !errors.Is(err, tc.wantErr) {
				t.Errorf("ParseNonNegative(%q) error = %v, want %v", tc.in, err, tc.wantErr)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	cases := map[string]struct {
		in, want doradev1.Amount
	}{
		"already canonical":                {in: "2.5", want: "2.5"},
		"trailing zeros go":                {in: "2.50", want: "2.5"},
		"an exponent is written out":       {in: "25e-1", want: "2.5"},
		"a whole number has no point":      {in: "500.000", want: "500"},
		"a large exponent":                 {in: "1E3", want: "1000"},
		"zero in any form is 0":            {in: "0.000", want: "0"},
		"small prices keep every digit":    {in: "0.000125", want: "0.000125"},
		"minus zero is 0":                  {in: "-0.0", want: "0"},
		"negative amounts stay negative":   {in: "-1.50", want: "-1.5"},
		"the empty amount is written as 0": {in: "", want: "0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Canonical(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("Canonical(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	if _, err := Canonical("lots"); !errors.Is(err, ErrNotANumber) {
		t.Errorf("Canonical(lots) error = %v, want ErrNotANumber", err)
	}
}

func TestFormat(t *testing.T) {
	cases := map[string]struct {
		n      Number
		places int
		want   string
	}{
		"one GPU-second at 2.5 per hour displays as 0.00": {n: Charge(1, Ratio(5, 2)), places: 2, want: "0.00"},
		"and shows its digits when asked for them":        {n: Charge(1, Ratio(5, 2)), places: 9, want: "0.000694444"},
		"a half rounds up":                           {n: Ratio(5, 1000), places: 2, want: "0.01"},
		"just under a half rounds down":              {n: Ratio(4999, 1_000_000), places: 2, want: "0.00"},
		"two thirds":                                 {n: Ratio(2, 3), places: 2, want: "0.67"},
		"a negative half rounds away from zero":      {n: Ratio(-5, 1000), places: 2, want: "-0.01"},
		"a negative that rounds to zero has no sign": {n: Ratio(-1, 1000), places: 2, want: "0.00"},
		"a whole budget":                             {n: Int(500), places: 2, want: "500.00"},
		"no places rounds to a whole number":         {n: Ratio(5, 2), places: 0, want: "3"},
		"negative places are none":                   {n: Ratio(5, 2), places: -1, want: "3"},
		"zero":                                       {n: Number{}, places: 2, want: "0.00"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.n.Format(tc.places); got != tc.want {
				t.Errorf("Format(%d) = %q, want %q", tc.places, got, tc.want)
			}
		})
	}
	if got := Ratio(1, 8).String(); got != "0.13" {
		t.Errorf("String() = %q, want 0.13 (DisplayPlaces, half up)", got)
	}
}

func TestAmount(t *testing.T) {
	cases := map[string]struct {
		n       Number
		want    doradev1.Amount
		wantErr error
	}{
		"a price":                              {n: Ratio(5, 2), want: "2.5"},
		"a whole number":                       {n: Int(500), want: "500"},
		"zero":                                 {n: Number{}, want: "0"},
		"eighths need three places":            {n: Ratio(1, 8), want: "0.125"},
		"fortieths mix twos and fives":         {n: Ratio(7, 40), want: "0.175"},
		"negative":                             {n: Ratio(-1, 4), want: "-0.25"},
		"1 GPU-second at 2.5/h has no end":     {n: Charge(1, Ratio(5, 2)), wantErr: ErrNotFiniteDecimal},
		"a third has no end":                   {n: Ratio(1, 3), wantErr: ErrNotFiniteDecimal},
		"whole GPU-hours at 2.5/h are decimal": {n: Charge(7200, Ratio(5, 2)), want: "5"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := tc.n.Amount()
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Errorf("Amount() = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if err == nil {
				if back := num(t, got); !back.Equal(tc.n) {
					t.Errorf("Amount() = %q reads back as %s, not %s", got, back.Rat().RatString(), tc.n.Rat().RatString())
				}
			}
		})
	}
}

func TestRoundingOnlyAtDisplay(t *testing.T) {
	// 1440 charges of one GPU-second at 2.5 per hour: each displays as 0.00, and together
	// they are exactly one credit. Rounding each on the way would have lost all of it.
	perHour := num(t, "2.5")
	var sum Number
	for range 1440 {
		one := Charge(1, perHour)
		if one.String() != "0.00" {
			t.Fatalf("one GPU-second displays as %s, want 0.00", one)
		}
		sum = sum.Add(one)
	}
	if !sum.Equal(Int(1)) {
		t.Errorf("1440 GPU-seconds at 2.5/h = %s, want exactly 1", sum.Rat().RatString())
	}
	if want := Ratio(1, 1440); !Charge(1, perHour).Equal(want) {
		t.Errorf("Charge(1, 2.5) = %s, want 1/1440", Charge(1, perHour).Rat().RatString())
	}
}

func TestNumbersAreImmutable(t *testing.T) {
	a := Ratio(1, 2)
	b := a.Add(Int(1))
	_ = a.Sub(Int(3)).Mul(Int(7))
	r := a.Rat()
	r.SetInt64(99)
	if !a.Equal(Ratio(1, 2)) || !b.Equal(Ratio(3, 2)) {
		t.Errorf("a = %s, b = %s: an operation or Rat() changed a Number", a.Rat().RatString(), b.Rat().RatString())
	}
}
