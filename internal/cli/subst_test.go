package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSubstituteReplacesTheVariablesGivenAndLeavesTheOthers(t *testing.T) {
	vars := Variables{"IMAGE": "ubuntu:24.04", "RUN": "7", "EMPTY": ""}
	cases := map[string]struct {
		in, want string
		used     []string
	}{
		"bare reference":         {in: "image: $IMAGE", want: "image: ubuntu:24.04", used: []string{"IMAGE"}},
		"braced reference":       {in: "name: run${RUN}.train", want: "name: run7.train", used: []string{"RUN"}},
		"braces end the name":    {in: "${RUN}x $RUNx", want: "7x $RUNx", used: []string{"RUN"}},
		"unknown stays":          {in: "cmd: echo $HOME ${USER}", want: "cmd: echo $HOME ${USER}"},
		"empty value":            {in: "a${EMPTY}b", want: "ab", used: []string{"EMPTY"}},
		"shell's own $$ and $1":  {in: "echo $$ $1 $", want: "echo $$ $1 $"},
		"several on a line":      {in: "$RUN-$RUN-${IMAGE}", want: "7-7-ubuntu:24.04", used: []string{"IMAGE", "RUN"}},
		"no references":          {in: "kind: Workload", want: "kind: Workload"},
		"reference in a comment": {in: "# uses $IMAGE", want: "# uses ubuntu:24.04", used: []string{"IMAGE"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, used := vars.Substitute(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Substitute(%q) (-want +got):\n%s", tc.in, diff)
			}
			var usedNames []string
			for n := range used {
				usedNames = append(usedNames, n)
			}
			if diff := cmp.Diff(tc.used, sortedCopy(usedNames)); diff != "" {
				t.Errorf("used (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseVariablesTakesNameEqualsValueAndRefusesTheRest(t *testing.T) {
	cases := map[string]struct {
		pairs   []string
		want    Variables
		wantErr string
	}{
		"pairs":             {pairs: []string{"A=1", "B_2=x"}, want: Variables{"A": "1", "B_2": "x"}},
		"value with =":      {pairs: []string{"OPTS=--a=b"}, want: Variables{"OPTS": "--a=b"}},
		"empty value":       {pairs: []string{"A="}, want: Variables{"A": ""}},
		"no =":              {pairs: []string{"A"}, wantErr: `-e "A": give NAME=value`},
		"bad name":          {pairs: []string{"1A=x"}, wantErr: `"1A" is not a variable name`},
		"name with a dash":  {pairs: []string{"MY-VAR=x"}, wantErr: `"MY-VAR" is not a variable name`},
		"the last one wins": {pairs: []string{"A=1", "A=2"}, want: Variables{"A": "2"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseVariables(tc.pairs)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestUnusedListsTheVariablesNoSourceReferred(t *testing.T) {
	vars := Variables{"A": "1", "B": "2", "C": "3"}
	_, used1 := vars.Substitute("$A")
	_, used2 := vars.Substitute("${C}")
	if diff := cmp.Diff([]string{"B"}, vars.Unused(used1, used2)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
