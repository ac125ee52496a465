package plugin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
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
	// A new workload's first pods are no event; a scale-up after it runs is.
	eventuallyDora(t, workloadDoc("owned.run", "ubuntu", 1)+"  replica:\n    count: 2\n", "--as", "amedeo.setti", "apply", "-f", "-")
	var out string
	eventually(t, time.Minute, "describe shows the owner's credits and the events", func() (bool, string) {
		out = doraOK(t, "describe", "owned.run", "-g", "amedeo.setti")
		// Both replicas ready again after the scale-up: the status the rest of the test reads.
		return strings.Contains(out, "Credits of amedeo.setti in dc-rov-01:") && strings.Contains(out, "ScaleUp") && strings.Contains(out, "Next reset:") &&
			strings.Contains(out, "AllReplicasReady"), out
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

// A workload's spec is its one revision until it changes: no ControllerRevision for it,
// history shows it as revision 1, and there is nothing to roll back. The first change keeps
// both, and rollback returns to either.
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
	history := func(want ...string) {
		t.Helper()
		eventually(t, 30*time.Second, "history lists "+strings.Join(want, ", "), func() (bool, string) {
			out := squeeze(doraOK(t, "history", "versioned", "-g", "amedeo.setti", "-o", "wide"))
			if !strings.HasPrefix(out, "REVISION CREATED CURRENT HASH IMAGE GPUS CMD\n") {
				return false, out
			}
			// Each row as REVISION, CURRENT's * when it is the current one, and IMAGE.
			var got []string
			for _, f := range fields(out)[1:] {
				row := f[0]
				if slices.Contains(f, "*") {
					row += " *"
				}
				for _, c := range f {
					if strings.HasPrefix(c, "busybox:") {
						row += " " + c
					}
				}
				got = append(got, row)
			}
			return slices.Equal(got, want), out
		})
	}
	revisions := func() int {
		t.Helper()
		list := &appsv1.ControllerRevisionList{}
		if err := admin(zoneRov).List(context.Background(), list, client.InNamespace("amedeo-setti"), client.MatchingLabels{doradev1.LabelWorkload: "versioned"}); err != nil {
			t.Fatal(err)
		}
		return len(list.Items)
	}

	apply("busybox:1.36")
	waitPhase(t, "versioned", "Running")
	history("1 * busybox:1.36")
	if n := revisions(); n != 0 {
		t.Errorf("%d ControllerRevisions for a workload that has had one spec, want none", n)
	}
	mustContain(t, doraOK(t, "rollback", "versioned", "-g", "amedeo.setti", "--to-revision", "1"),
		"workload.dora.dev/versioned is at revision 1 already (workspace amedeo.setti, zone dc-rov-01): nothing to roll back")
	mustContain(t, dora(t, "rollback", "versioned", "-g", "amedeo.setti").stderr, "there is no earlier revision to go back to (kept: 1)")

	apply("busybox:1.37")
	history("1 busybox:1.36", "2 * busybox:1.37")
	if n := revisions(); n != 2 {
		t.Errorf("%d ControllerRevisions after the first change, want 2", n)
	}
	mustContain(t, doraOK(t, "rollback", "versioned", "-g", "amedeo.setti"), "workload.dora.dev/versioned rolled back to revision 1")
	if got := image(); got != "busybox:1.36" {
		t.Errorf("after rollback the image is %q", got)
	}
	history("1 * busybox:1.36", "2 busybox:1.37")
	waitPhase(t, "versioned", "Running")
	eventually(t, 30*time.Second, "the replica runs busybox:1.36 again", func() (bool, string) {
		out := doraOK(t, "get", "c", "versioned-0", "-g", "amedeo.setti", "-o", "wide", "--no-headers")
		return strings.Contains(out, "busybox:1.36"), out
	})
	mustContain(t, doraOK(t, "rollback", "versioned", "-g", "amedeo.setti", "--to-revision", "2"), "rolled back to revision 2")
	if got := image(); got != "busybox:1.37" {
		t.Errorf("after rollback to 2 the image is %q", got)
	}
	history("1 busybox:1.36", "2 * busybox:1.37")
	if n := revisions(); n != 2 {
		t.Errorf("%d ControllerRevisions after rolling back and forth, want 2", n)
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
