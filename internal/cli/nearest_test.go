package cli

import "testing"

func TestEditDistanceCountsInsertionsDeletionsAndSubstitutions(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"", "abc", 3}, {"abc", "", 3},
		{"blue.red", "blue.rde", 2}, {"blue.red", "blue.re", 1}, {"kitten", "sitting", 3},
		{"dc-rov-01", "dc-rov-02", 1}, {"héllo", "hello", 1},
	}
	for _, tc := range cases {
		if got := EditDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestNearestSuggestsOnlyAPlausibleTypo(t *testing.T) {
	candidates := []string{"blue.red", "green.blue", "hello", "train.v100"}
	cases := map[string]string{
		"blue.rde":    "blue.red",
		"bleu.red":    "blue.red",
		"BLUE.RED":    "blue.red",
		"helo":        "hello",
		"train.v10":   "train.v100",
		"xyz":         "",
		"completely":  "",
		"blue.red":    "", // it exists: nothing to suggest
		"green.bleu.": "green.blue",
	}
	for name, want := range cases {
		if got := Nearest(name, candidates); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", name, got, want)
		}
	}
	if got := Nearest("a", nil); got != "" {
		t.Errorf("Nearest among nothing = %q", got)
	}
}

func TestANotFoundErrorSuggestsListsOrSaysThereIsNothing(t *testing.T) {
	wk, _ := LookupKind("wk")
	cases := map[string]struct {
		err  *NotFoundError
		want string
	}{
		"near": {NewNotFound(wk, "blue.rde", "in workspace a (zone z)", []string{"hello", "blue.red"}, true),
			`workload "blue.rde" not found in workspace a (zone z); did you mean "blue.red"?`},
		"none there": {NewNotFound(wk, "x", "in workspace a (zone z)", nil, true),
			`workload "x" not found in workspace a (zone z); there are no workloads there`},
		"far": {NewNotFound(wk, "zzzzzz", "in zone z", []string{"b", "a", "c", "d", "e", "f", "g"}, true),
			`workload "zzzzzz" not found in zone z; the workloads there are a, b, c, d, e (and 2 more)`},
		"not listed": {NewNotFound(wk, "x", "in zone z", nil, false), `workload "x" not found in zone z`},
	}
	for name, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, tc.want)
		}
	}
}
