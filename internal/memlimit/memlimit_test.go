package memlimit

import "testing"

func TestParse(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    int64
		wantErr bool
	}{
		"a v2 limit":               {in: "268435456\n", want: 268435456},
		"v2 without a limit":       {in: "max\n", want: 0},
		"v1 without a limit":       {in: "9223372036854771712\n", want: 0},
		"not a number is an error": {in: "lots", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("Parse(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// The chart's default limit of 256Mi leaves the heap 230 MiB.
func TestSoft(t *testing.T) {
	if got := Soft(256 << 20); got>>20 != 230 {
		t.Errorf("Soft(256Mi) = %d MiB, want 230", got>>20)
	}
}
