package plugin

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

var (
	seedOnce   sync.Once
	seedResult result
)

// seed applies the seed's Dora documents once, with -z and -g for the one document (the
// seed's simple workload) that names neither, and waits until the full workload runs;
// several tests read what it made.
func seed(t *testing.T) result {
	t.Helper()
	seedOnce.Do(func() {
		seedResult = dora(t, "apply", "-f", testdata("seed.yaml"), "-z", zoneRov, "-g", "amedeo.setti")
		if seedResult.code != 0 {
			return
		}
		eventually(t, 90*time.Second, "blue.red runs both replicas", func() (bool, string) {
			r := dora(t, "get", "wk", "blue.red", "-g", "amedeo.setti", "-o", "jsonpath={.status.ready}")
			return r.stdout == "2/2", r.String()
		})
	})
	if seedResult.code != 0 {
		t.Fatalf("applying the seed failed:\n%s", seedResult)
	}
	return seedResult
}

// exists reports whether a Dora object is in a zone.
func exists(t *testing.T, zone string, obj client.Object, namespace, name string) bool {
	t.Helper()
	err := admin(zone).Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, obj)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("reading %s/%s in %s: %v", namespace, name, zone, err)
	}
	return err == nil
}

func TestTheSeedsDoraDocumentsApplyInOneCommandEachToItsZone(t *testing.T) {
	r := seed(t)
	mustContain(t, r.stdout,
		"workload.dora.dev/blue.red serverside-applied (workspace amedeo.setti, zone dc-rov-01)",
		"workload.dora.dev/hello serverside-applied (workspace amedeo.setti, zone dc-rov-01)",
		"volume.dora.dev/imagenetpytorch serverside-applied (workspace datasets, zone dc-rov-01)",
		"storage.dora.dev/dora.storage.01 serverside-applied (zone dc-rov-01)",
		"resourcecredit.dora.dev/tesla-v100-sxm2-16gb-98202f79 serverside-applied (zone dc-rov-01)",
		"user.dora.dev/amedeo.setti serverside-applied (zone dc-rov-01)",
		"user.dora.dev/amedeo.setti serverside-applied (zone dc-test-01)",
		"workspace.dora.dev/amedeo.setti serverside-applied (zone dc-test-01)",
		"role.dora.dev/user serverside-applied (zone dc-test-01)",
	)
	// The User, the Role and the Workspaces, applied once, reach both zones; what the seed
	// writes for dc-rov-01 stays there.
	for _, zone := range []string{zoneRov, zoneTest} {
		if !exists(t, zone, &doradev1.User{}, "", "amedeo.setti") || !exists(t, zone, &doradev1.Role{}, "", "user") ||
			!exists(t, zone, &doradev1.Workspace{}, "", "amedeo.setti") || !exists(t, zone, &doradev1.Workspace{}, "", "datasets") {
			t.Errorf("the seed's User, Role and Workspaces are not all in %s", zone)
		}
	}
	for _, obj := range []struct {
		o        client.Object
		ns, name string
	}{
		{&doradev1.Storage{}, "", "dora.storage.01"}, {&doradev1.Volume{}, "amedeo-setti", "home"},
		{&doradev1.Workload{}, "amedeo-setti", "blue.red"}, {&doradev1.ResourceCredit{}, "", "tesla-v100-sxm2-16gb-98202f79"},
	} {
		if !exists(t, zoneRov, obj.o, obj.ns, obj.name) {
			t.Errorf("%T %s is not in %s", obj.o, obj.name, zoneRov)
		}
		if exists(t, zoneTest, obj.o, obj.ns, obj.name) {
			t.Errorf("%T %s, written for %s, is in %s too", obj.o, obj.name, zoneRov, zoneTest)
		}
	}
	wl := &doradev1.Workload{}
	exists(t, zoneRov, wl, "amedeo-setti", "blue.red")
	if wl.Spec.Config == nil || wl.Spec.Config.Affinity != doradev1.AffinityDistribute || *wl.Spec.Config.ShmSize != 1000000000 ||
		len(wl.Spec.Selectors.GPU.ProductName.Values) != 2 || wl.Spec.Network.Ports[0].NodePort != 25000 {
		t.Errorf("the tab-indented full workload was not read as written: %+v", wl.Spec)
	}
	if wl.GetManagedFields()[0].Manager != "kubectl-dora" {
		t.Errorf("field manager %q, want kubectl-dora", wl.GetManagedFields()[0].Manager)
	}
}

func TestDollarVariablesAreReplacedBeforeTheDocumentsAreRead(t *testing.T) {
	seed(t)
	r := dora(t, "apply", "-f", testdata("substitution.yaml"), "-z", zoneRov, "-e", "RUN=r7", "-e", "IMAGE=busybox:1.36", "-e", "EPOCHS=3", "-e", "UNUSED=x")
	if r.code != 0 {
		t.Fatal(r)
	}
	mustContain(t, r.stdout, "workload.dora.dev/r7.train serverside-applied (workspace amedeo.setti, zone dc-rov-01)")
	mustContain(t, r.stderr, "warning: -e UNUSED: no document refers to $UNUSED")
	wl := &doradev1.Workload{}
	if !exists(t, zoneRov, wl, "amedeo-setti", "r7.train") {
		t.Fatal("r7.train was not made")
	}
	if wl.Spec.Image.Image != "busybox:1.36" || strings.Join(wl.Spec.Config.Cmd.Values, " ") != "sh -c echo epochs=3 home=$HOME" {
		t.Errorf("substituted %q, %q", wl.Spec.Image.Image, wl.Spec.Config.Cmd.Values)
	}
}

func TestAFileWithOneBadDocumentAppliesNothingAndNamesFileDocumentKindAndField(t *testing.T) {
	seed(t)
	cases := map[string]struct {
		file   string
		says   []string
		absent []string
	}{
		"the translator refuses": {
			file:   "bad-translation.yaml",
			says:   []string{"testdata/bad-translation.yaml: document 2 (Workload misspelt)", `unknown field "spec.selectors.gpu.cuont"`},
			absent: []string{"first.of.three"},
		},
		"the cluster refuses": {
			file: "bad-server.yaml",
			says: []string{"testdata/bad-server.yaml: document 2 (Workload negative.gpus) in zone dc-rov-01",
				"spec.selectors.gpu.count: Invalid value: -2", "selectors.gpu.count must be a whole number of GPUs"},
			absent: []string{"third.after.refusal"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := dora(t, "apply", "-f", testdata(tc.file), "-z", zoneRov)
			if r.code == 0 {
				t.Fatalf("a file with a bad document was applied:\n%s", r)
			}
			mustContain(t, r.stderr, tc.says...)
			mustContain(t, r.stderr, "nothing was applied: 1 document(s) refused")
			for _, name := range tc.absent {
				if exists(t, zoneRov, &doradev1.Workload{}, "amedeo-setti", name) {
					t.Errorf("workload %s of the refused file was applied", name)
				}
			}
			for _, name := range []string{"third.of.three", "scratch.first"} {
				if exists(t, zoneRov, &doradev1.Volume{}, "amedeo-setti", name) {
					t.Errorf("volume %s of a refused file was applied", name)
				}
			}
		})
	}
}

func TestDocumentsForTwoZonesInOneFileLandEachInItsZone(t *testing.T) {
	seed(t)
	r := dora(t, "apply", "-f", testdata("two-zones.yaml"))
	if r.code != 0 {
		t.Fatal(r)
	}
	mustContain(t, r.stdout,
		"workload.dora.dev/rov.inference serverside-applied (workspace amedeo.setti, zone dc-rov-01)",
		"workload.dora.dev/t4.inference serverside-applied (workspace amedeo.setti, zone dc-test-01)",
		"resourcecredit.dora.dev/tesla-t4-131365bf serverside-applied (zone dc-test-01)")
	if !exists(t, zoneTest, &doradev1.Workload{}, "amedeo-setti", "t4.inference") || exists(t, zoneRov, &doradev1.Workload{}, "amedeo-setti", "t4.inference") {
		t.Error("t4.inference is not in dc-test-01 alone")
	}
	if !exists(t, zoneRov, &doradev1.Workload{}, "amedeo-setti", "rov.inference") || exists(t, zoneTest, &doradev1.Workload{}, "amedeo-setti", "rov.inference") {
		t.Error("rov.inference is not in dc-rov-01 alone")
	}
	if exists(t, zoneRov, &doradev1.ResourceCredit{}, "", "tesla-t4-131365bf") {
		t.Error("the T4's price of dc-test-01 is in dc-rov-01 too")
	}
	eventually(t, time.Minute, "t4.inference runs in dc-test-01", func() (bool, string) {
		r := dora(t, "get", "wk", "t4.inference", "-z", zoneTest, "-g", "amedeo.setti", "-o", "jsonpath={.status.phase}")
		return r.stdout == "Running", r.String()
	})
}

func TestDryRunsShowTheTranslationAndWriteNothing(t *testing.T) {
	seed(t)
	doc := "apiVersion: v1\nkind: Workload\nmetadata:\n  name: dry.run\n  group: amedeo.setti\nspec:\n  image:\n    image: ubuntu\n"
	r := doraIn(t, doc, "apply", "-f", "-", "--dry-run=client", "-o", "yaml")
	if r.code != 0 {
		t.Fatal(r)
	}
	mustContain(t, r.stdout, "apiVersion: dora.dev/v1alpha1", "kind: Workload", "namespace: amedeo-setti", "dora.dev/workspace: amedeo.setti")
	r = doraIn(t, doc, "apply", "-f", "-", "--dry-run=server", "-o", "json", "-z", zoneRov)
	if r.code != 0 {
		t.Fatal(r)
	}
	mustContain(t, r.stdout, `"kind": "Workload"`, `"pullPolicy": "IfNotPresent"`, `"uid":`)
	if exists(t, zoneRov, &doradev1.Workload{}, "amedeo-setti", "dry.run") {
		t.Error("a dry run wrote the workload")
	}
}

func TestDeleteFileRemovesWhatApplyMade(t *testing.T) {
	seed(t)
	doc := "apiVersion: v1\nkind: Workload\nmetadata:\n  name: short.lived\n  group: amedeo.setti\n  zone: dc-rov-01\nspec:\n  image:\n    image: ubuntu\n"
	if r := doraIn(t, doc, "apply", "-f", "-"); r.code != 0 {
		t.Fatal(r)
	}
	r := doraIn(t, doc, "delete", "-f", "-")
	if r.code != 0 {
		t.Fatal(r)
	}
	mustContain(t, r.stdout, "workload.dora.dev/short.lived deleted (zone dc-rov-01)")
	eventually(t, 30*time.Second, "short.lived is gone", func() (bool, string) {
		return !exists(t, zoneRov, &doradev1.Workload{}, "amedeo-setti", "short.lived"), "it is still there"
	})
	r = doraIn(t, doc, "delete", "-f", "-")
	if r.code == 0 {
		t.Fatalf("deleting it again succeeded:\n%s", r)
	}
	mustContain(t, r.stderr, "stdin: document 1 (Workload short.lived) in zone dc-rov-01", "not found")
	if r := doraIn(t, doc, "delete", "-f", "-", "--ignore-not-found"); r.code != 0 {
		t.Fatalf("--ignore-not-found:\n%s", r)
	}
}
