package plugin

import (
	"bufio"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// kwok serves every container's log from one file and runs exec commands on this machine
// (kwok_test.go); in dc-test-01 without bash.

func TestLogsOfAWorkloadAreEachReplicasAndOfAContainerItsOwn(t *testing.T) {
	seed(t)
	out := doraOK(t, "logs", "blue.red", "-g", "amedeo.setti")
	want := "[blue.red-0] " + currentLogLine + "\n[blue.red-1] " + currentLogLine + "\n"
	if out != want {
		t.Errorf("logs of both replicas:\n got %q\nwant %q", out, want)
	}
	if out := doraOK(t, "logs", "blue.red", "--replica", "1", "-g", "amedeo.setti"); out != currentLogLine+"\n" {
		t.Errorf("--replica 1: %q", out)
	}
	if out := doraOK(t, "logs", "blue.red-0", "--previous", "-g", "amedeo.setti"); out != previousLogLine+"\n" {
		t.Errorf("a container's previous logs: %q", out)
	}
	r := dora(t, "logs", "blue.red", "--replica", "5", "-g", "amedeo.setti")
	mustContain(t, r.stderr, "workload blue.red in workspace amedeo.setti (zone dc-rov-01) has 2 replica(s), 0 to 1: there is no replica 5")
}

func TestLogsFollowKeepsTheStreamOpen(t *testing.T) {
	seed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath, "dora", "logs", "hello", "-f", "-g", "amedeo.setti")
	cmd.Env = kubectlEnv(nil)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != currentLogLine+"\n" {
		t.Errorf("the first line followed: %q, %v", line, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Errorf("logs -f ended by itself: %v", err)
	case <-time.After(2 * time.Second):
	}
	cancel()
	if err := <-exited; err == nil {
		t.Error("logs -f ended well although it was killed")
	}
}

func TestShellRunsBashAndFallsBackToShWhereTheImageHasNoBash(t *testing.T) {
	seed(t)
	// In dc-rov-01 the fake containers have bash: the command line runs with it.
	out := doraOK(t, "shell", "blue.red", "-g", "amedeo.setti", "--", `echo "in $0 fake=$DORA_FAKE_CONTAINER"`)
	if out != "in bash fake=1\n" {
		t.Errorf("shell in dc-rov-01: %q", out)
	}
	if out := doraOK(t, "shell", "blue.red-1", "-g", "amedeo.setti", "--", "echo one; echo two"); out != "one\ntwo\n" {
		t.Errorf("shell in a container named: %q", out)
	}
	// In dc-test-01 they have no bash: the same command runs with sh.
	eventually(t, time.Minute, "t4.inference runs in dc-test-01", func() (bool, string) {
		if r := dora(t, "get", "wk", "t4.inference", "-z", zoneTest, "-g", "amedeo.setti"); r.code != 0 {
			dora(t, "apply", "-f", testdata("two-zones.yaml"))
		}
		r := dora(t, "get", "wk", "t4.inference", "-z", zoneTest, "-g", "amedeo.setti", "-o", "jsonpath={.status.phase}")
		return r.stdout == "Running", r.String()
	})
	out = doraOK(t, "shell", "t4.inference", "-z", zoneTest, "-g", "amedeo.setti", "--", `echo "in $0 fake=$DORA_FAKE_CONTAINER"`)
	if out != "in sh fake=1\n" {
		t.Errorf("shell in dc-test-01 (no bash): %q", out)
	}
	r := dora(t, "exec", "t4.inference", "-z", zoneTest, "-g", "amedeo.setti", "--", "bash", "-c", "true")
	if r.code == 0 {
		t.Fatalf("bash ran in a container without bash:\n%s", r)
	}
	mustContain(t, r.stderr, "running bash -c true in container t4.inference-0", `executable file not found`)
}

func TestExecRunsACommandAsItIsWithStdin(t *testing.T) {
	seed(t)
	if out := doraOK(t, "exec", "hello", "-g", "amedeo.setti", "--", "echo", "a  b", "$HOME"); out != "a  b $HOME\n" {
		t.Errorf("exec passes the arguments as they are, no shell: %q", out)
	}
	r := doraIn(t, "line from stdin\n", "exec", "-i", "hello", "-g", "amedeo.setti", "--", "head", "-n", "1")
	if r.code != 0 || r.stdout != "line from stdin\n" {
		t.Errorf("exec -i head -n 1:\n%s", r)
	}
	r = dora(t, "exec", "nothing.here", "-g", "amedeo.setti", "--", "true")
	mustContain(t, r.stderr, `workload or container "nothing.here" not found in workspace amedeo.setti (zone dc-rov-01)`)
}

func TestEventsOfAWorkloadAreItsOwnAndItsContainers(t *testing.T) {
	seed(t)
	// A new workload's first pods are no event; a scale-up after it runs is.
	if r := doraIn(t, workloadDoc("evented", "ubuntu", 0), "apply", "-f", "-"); r.code != 0 {
		t.Fatal(r)
	}
	waitPhase(t, "evented", "Running")
	if r := doraIn(t, workloadDoc("evented", "ubuntu", 0)+"  replica:\n    count: 2\n", "apply", "-f", "-"); r.code != 0 {
		t.Fatal(r)
	}
	var out string
	eventually(t, time.Minute, "the scale-up and the scheduler's events", func() (bool, string) {
		out = doraOK(t, "events", "evented", "-g", "amedeo.setti")
		return strings.Contains(out, "ScaleUp") && strings.Contains(out, "pod/evented-1"), out
	})
	if !strings.HasPrefix(squeeze(out), "LAST SEEN TYPE REASON OBJECT MESSAGE\n") {
		t.Errorf("events:\n%s", out)
	}
	mustContain(t, out, "ScaleUp", "workload/evented", "Created 1 pods", "pod/evented-0", "Scheduled")
	if strings.Contains(out, "blue.red") || strings.Contains(out, "hello") {
		t.Errorf("another workload's events:\n%s", out)
	}
	mustContain(t, doraOK(t, "events", "-g", "amedeo.setti"), "workload/evented", "pod/hello-0", "pod/blue.red-0")
}
