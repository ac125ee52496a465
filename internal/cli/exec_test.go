package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilexec "k8s.io/client-go/util/exec"
)

func TestShellTriesBashThenSh(t *testing.T) {
	if diff := cmp.Diff([][]string{{"bash"}, {"sh"}}, ShellCommands("")); diff != "" {
		t.Errorf("interactive (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"bash", "-c", "ls /home && df -h"}, {"sh", "-c", "ls /home && df -h"}}, ShellCommands("ls /home && df -h")); diff != "" {
		t.Errorf("a command line (-want +got):\n%s", diff)
	}
}

func TestAMissingCommandIsToldFromACommandThatFailed(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"no error":         {nil, false},
		"exit 127":         {utilexec.CodeExitError{Err: errors.New("command terminated with exit code 127"), Code: 127}, true},
		"exit 126":         {utilexec.CodeExitError{Err: errors.New("command terminated with exit code 126"), Code: 126}, true},
		"exit 1":           {utilexec.CodeExitError{Err: errors.New("command terminated with exit code 1"), Code: 1}, false},
		"runc's words":     {errors.New(`OCI runtime exec failed: exec failed: unable to start container process: exec: "bash": executable file not found in $PATH: unknown`), true},
		"kwok's words":     {fmt.Errorf("running bash: %w", errors.New(`Internal error occurred: error executing command in container: cmd start: bash : exec: "bash": executable file not found in $PATH`)), true},
		"no such file":     {errors.New(`exec: "/bin/bash": stat /bin/bash: no such file or directory`), true},
		"a network error":  {errors.New("connection refused"), false},
		"wrapped exit 127": {fmt.Errorf("x: %w", utilexec.CodeExitError{Err: errors.New("exit"), Code: 127}), true},
	}
	for name, tc := range cases {
		if got := IsMissingCommand(tc.err); got != tc.want {
			t.Errorf("%s: IsMissingCommand = %t, want %t", name, got, tc.want)
		}
	}
}

func TestKubectlsCompletionWordsBecomeCobrasCompletionRequest(t *testing.T) {
	if diff := cmp.Diff([]string{"__complete", "get", "wk", ""}, CompletionArgs([]string{"get", "wk", ""})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
