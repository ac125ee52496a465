package plugin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// workloadDoc is a Dora document of a small workload in amedeo.setti of zone dc-rov-01.
func workloadDoc(name, image string, gpus int) string {
	doc := fmt.Sprintf("apiVersion: v1\nkind: Workload\nmetadata:\n  name: %s\n  group: amedeo.setti\n  zone: dc-rov-01\nspec:\n  image:\n    image: %s\n", name, image)
	if gpus > 0 {
		doc += fmt.Sprintf("  selectors:\n    gpu:\n      product_name: Tesla V100-SXM2-16GB\n      count: %d\n", gpus)
	}
	return doc
}

// pods are the names of a workload's pods in dc-rov-01.
func pods(t *testing.T, workload string) []string {
	t.Helper()
	list := &corev1.PodList{}
	if err := admin(zoneRov).List(context.Background(), list, client.InNamespace("amedeo-setti"), client.MatchingLabels{doradev1.LabelWorkload: workload}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	return names
}

func waitPhase(t *testing.T, workload, phase string) {
	t.Helper()
	eventually(t, time.Minute, workload+" is "+phase, func() (bool, string) {
		r := dora(t, "get", "wk", workload, "-g", "amedeo.setti", "-o", "jsonpath={.status.phase}")
		return r.stdout == phase, r.String()
	})
}

func TestDescribeWorkloadShowsConditionsReplicasRevisionsEventsAndItsOwnersCredits(t *testing.T) {
	seed(t)
	// Applied as amedeo.setti, the workload is theirs (the owner webhook stamps it).
	eventuallyDora(t, workloadDoc("owned.run", "ubuntu", 1), "--as", "amedeo.setti", "apply", "-f", "-")
	waitPhase(t, "owned.run", "Running")
	var out string
	eventually(t, time.Minute, "describe shows the owner's credits and the events", func() (bool, string) {
		out = doraOK(t, "describe", "owned.run", "-g", "amedeo.setti")
		return strings.Contains(out, "Credits of amedeo.setti in dc-rov-01:") && strings.Contains(out, "ScaleUp") && strings.Contains(out, "Next reset:"), out
	})
	mustContain(t, out,
		"Name:", "owned.run", "Workspace:", "amedeo.setti (namespace amedeo-setti)", "Owner:", "Zone:",
		"GPUs:", "1 x Tesla V100-SXM2-16GB per replica",
		"Conditions:", "Ready", "AllReplicasReady",
		"Replicas:", "REPLICA", "owned.run-0", "Running",
		"Revisions:", "REVISION", "*",
		"Weekly:", "500", "Used:", "Remaining:", "Exhausted:", "no",
		"Events:", "workload/owned.run", "Created 1 pods",
	)
	if !containsRows(out, []string{"0 owned.run-0 v100-"}) {
		t.Errorf("the replica's row does not say its node:\n%s", out)
	}
	if out := doraOK(t, "describe", "blue.red", "-g", "amedeo.setti"); !strings.Contains(out, "the workload has no owner") {
		t.Errorf("an administrator's workload is said to have an owner:\n%s", out)
	}
	out = doraOK(t, "describe", "vol", "home", "-g", "amedeo.setti")
	mustContain(t, out, "Kind:", "Volume", "Spec:", "storage: dora.storage.01", "Conditions:", "ClaimBound")
}

func TestPauseAndResumeRemoveAndBringBackTheContainers(t *testing.T) {
	seed(t)
	if r := doraIn(t, workloadDoc("pausable", "ubuntu", 0), "apply", "-f", "-"); r.code != 0 {
		t.Fatal(r)
	}
	waitPhase(t, "pausable", "Running")
	mustContain(t, doraOK(t, "pause", "pausable", "-g", "amedeo.setti"), "workload.dora.dev/pausable paused (workspace amedeo.setti, zone dc-rov-01)")
	waitPhase(t, "pausable", "Paused")
	eventually(t, 30*time.Second, "the paused workload's pods go", func() (bool, string) {
		p := pods(t, "pausable")
		return len(p) == 0, fmt.Sprint(p)
	})
	mustContain(t, doraOK(t, "pause", "pausable", "-g", "amedeo.setti"), "already paused")
	mustContain(t, doraOK(t, "resume", "pausable", "-g", "amedeo.setti"), "workload.dora.dev/pausable resumed")
	waitPhase(t, "pausable", "Running")
}

func TestPauseWithoutTheDoraVerbIsRefusedInTheClustersOwnWords(t *testing.T) {
	seed(t)
	// guest.viewer may apply and read workloads of amedeo.setti, not pause them.
	setup := `apiVersion: v1
kind: Role
metadata:
  name: runner
spec:
  permission:
    Workload: [Apply, Get, Describe]
---
apiVersion: v1
kind: User
metadata:
  name: guest.viewer
spec:
  default: {workspace: amedeo.setti, zone: dc-rov-01}
  resources:
    - {kind: Workload, zone: All, workspace: amedeo.setti, role: runner}
`
	if r := doraIn(t, setup, "apply", "-f", "-"); r.code != 0 {
		t.Fatal(r)
	}
	eventuallyDora(t, "", "--as", "guest.viewer", "get", "wk", "hello")
	r := doraAs(t, "guest.viewer", "pause", "hello")
	if r.code == 0 {
		t.Fatalf("a user without Pause paused:\n%s", r)
	}
	mustContain(t, r.stderr, "pausing workload hello in workspace amedeo.setti (zone dc-rov-01) as guest.viewer",
		`admission webhook "vworkload.dora.dev" denied the request`, "guest.viewer may not pause workload hello", "the Dora verb Pause")
}

func TestHistoryListsTheRevisionsAndRollbackReturnsToOne(t *testing.T) {
	seed(t)
	apply := func(image string) {
		t.Helper()
		if r := doraIn(t, workloadDoc("versioned", "$IMAGE", 0), "apply", "-f", "-", "-e", "IMAGE="+image); r.code != 0 {
			t.Fatal(r)
		}
	}
	image := func() string {
		return doraOK(t, "get", "wk", "versioned", "-g", "amedeo.setti", "-o", "jsonpath={.spec.image.image}")
	}
	history := func(want string) string {
		t.Helper()
		var out string
		eventually(t, 30*time.Second, "history says "+want, func() (bool, string) {
			out = squeeze(doraOK(t, "history", "versioned", "-g", "amedeo.setti", "-o", "wide"))
			return strings.Contains(out, want), out
		})
		return out
	}
	apply("busybox:1.36")
	history("1 ")
	apply("busybox:1.37")
	out := history("busybox:1.37 <none> <image's>")
	if !strings.HasPrefix(out, "REVISION CREATED CURRENT HASH IMAGE GPUS CMD\n") || !containsRows(out, []string{"1 "}) {
		t.Errorf("history:\n%s", out)
	}
	if f := fields(out); len(f) != 3 || f[2][0] != "2" || f[2][2] != "*" {
		t.Errorf("revision 2 is not the current one:\n%s", out)
	}
	mustContain(t, doraOK(t, "rollback", "versioned", "-g", "amedeo.setti"), "workload.dora.dev/versioned rolled back to revision 1")
	if got := image(); got != "busybox:1.36" {
		t.Errorf("after rollback the image is %q", got)
	}
	eventually(t, 30*time.Second, "revision 1 is current again", func() (bool, string) {
		f := fields(doraOK(t, "history", "versioned", "-g", "amedeo.setti"))
		return len(f) == 3 && len(f[1]) == 3 && f[1][2] == "*", fmt.Sprint(f)
	})
	mustContain(t, doraOK(t, "rollback", "versioned", "-g", "amedeo.setti", "--to-revision", "2"), "rolled back to revision 2")
	if got := image(); got != "busybox:1.37" {
		t.Errorf("after rollback to 2 the image is %q", got)
	}
	r := dora(t, "rollback", "versioned", "-g", "amedeo.setti", "--to-revision", "9")
	mustContain(t, r.stderr, "no revision 9; the kept revisions are 1, 2")
}

func TestDeleteByNameRemovesAWorkloadAndSuggestsOnATypo(t *testing.T) {
	seed(t)
	if r := doraIn(t, workloadDoc("to.delete", "ubuntu", 0), "apply", "-f", "-"); r.code != 0 {
		t.Fatal(r)
	}
	r := dora(t, "delete", "to.delte", "-g", "amedeo.setti")
	mustContain(t, r.stderr, `workload "to.delte" not found in workspace amedeo.setti (zone dc-rov-01); did you mean "to.delete"?`)
	mustContain(t, doraOK(t, "delete", "to.delete", "-g", "amedeo.setti"), "workload.dora.dev/to.delete deleted (workspace amedeo.setti, zone dc-rov-01)")
}

func TestCloneMakesTheWorkspaceInEveryZoneWithItsWorkloadsPaused(t *testing.T) {
	seed(t)
	r := dora(t, "clone", "amedeo.setti", "amedeo.setti.copy")
	if r.code != 0 {
		t.Fatal(r)
	}
	mustContain(t, r.stdout,
		"workspace.dora.dev/amedeo.setti.copy created in zone dc-rov-01: a clone of amedeo.setti",
		"workspace.dora.dev/amedeo.setti.copy created in zone dc-test-01: a clone of amedeo.setti")
	eventually(t, time.Minute, "the clone completes in both zones", func() (bool, string) {
		out := doraOK(t, "get", "ws", "amedeo.setti.copy", "--all-zones", "-o", "wide")
		return containsRows(out, []string{"dc-rov-01 amedeo.setti.copy amedeo-setti-copy True amedeo.setti Complete",
			"dc-test-01 amedeo.setti.copy amedeo-setti-copy True amedeo.setti Complete"}), out
	})
	out := doraOK(t, "get", "wk", "-g", "amedeo.setti.copy")
	if !containsRows(out, []string{"blue.red 0/0", "hello 0/0"}) || !strings.Contains(out, "Paused") {
		t.Errorf("the clone's workloads are not paused copies:\n%s", out)
	}
	r = dora(t, "clone", "no.such.workspace", "x.copy", "-z", zoneTest)
	mustContain(t, r.stderr, `workspace "no.such.workspace" not found in zone dc-test-01`)
}
