package cli

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func revisionOf(t *testing.T, wl *doradev1.Workload, number int64, hash, image string, age time.Duration) appsv1.ControllerRevision {
	t.Helper()
	spec := doradev1.WorkloadSpec{Image: doradev1.ImageSpec{Image: image}}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name: wl.Name + "-" + hash, Namespace: wl.Namespace, Labels: map[string]string{LabelRevision: hash},
			CreationTimestamp: metav1.NewTime(now.Add(-age)),
			OwnerReferences:   []metav1.OwnerReference{{APIVersion: "dora.dev/v1alpha1", Kind: "Workload", Name: wl.Name, UID: wl.UID, Controller: ptr.To(true)}},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: number,
	}
}

func historyWorkload() *doradev1.Workload {
	return &doradev1.Workload{
		ObjectMeta: metav1.ObjectMeta{Name: "blue.red", Namespace: "amedeo-setti", UID: types.UID("uid-1")},
		Spec:       doradev1.WorkloadSpec{Replica: &doradev1.ReplicaSpec{Count: ptr.To[int32](3)}, Paused: true, Image: doradev1.ImageSpec{Image: "ubuntu:26.04"}},
		Status:     doradev1.WorkloadStatus{CurrentRevision: "h2"},
	}
}

func TestRevisionsAreTheWorkloadsOwnOldestFirstWithTheCurrentMarked(t *testing.T) {
	wl := historyWorkload()
	other := revisionOf(t, wl, 9, "x", "other", time.Hour)
	other.OwnerReferences[0].UID = "someone-else"
	revs, err := WorkloadRevisions(wl, []appsv1.ControllerRevision{
		revisionOf(t, wl, 3, "h3", "ubuntu:26.04", time.Minute), revisionOf(t, wl, 1, "h1", "ubuntu:22.04", time.Hour),
		other, revisionOf(t, wl, 2, "h2", "ubuntu:24.04", 10*time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range revs {
		got = append(got, r.Hash+"/"+r.Spec.Image.Image+map[bool]string{true: " *"}[r.Current])
	}
	if diff := cmp.Diff([]string{"h1/ubuntu:22.04", "h2/ubuntu:24.04 *", "h3/ubuntu:26.04"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var out bytes.Buffer
	if err := PrintTable(&out, HistoryTable(revs, now), false, false); err != nil {
		t.Fatal(err)
	}
	want := "REVISION   CREATED   CURRENT\n1          60m       \n2          10m       *\n3          60s       \n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestRollbackGoesToTheNewestOtherRevisionOrTheOneAsked(t *testing.T) {
	revs := []Revision{{Number: 1, Hash: "h1"}, {Number: 2, Hash: "h2", Current: true}, {Number: 3, Hash: "h3"}}
	cases := map[string]struct {
		revs    []Revision
		to      int64
		want    int64
		wantErr string
	}{
		"the newest that is not current":      {revs: revs, want: 3},
		"the one asked":                       {revs: revs, to: 1, want: 1},
		"the current one, which is no change": {revs: revs, to: 2, want: 2},
		"one not kept":                        {revs: revs, to: 7, wantErr: "no revision 7; the kept revisions are 1, 2, 3"},
		"only the current":                    {revs: revs[1:2], wantErr: "there is no earlier revision to go back to (kept: 2)"},
		"none":                                {wantErr: "there is no earlier revision to go back to (kept: <none>)"},
		"back from an old current":            {revs: []Revision{{Number: 1, Current: true}, {Number: 2}}, want: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := RollbackTarget(tc.revs, tc.to)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && got.Number != tc.want {
				t.Errorf("got revision %d, want %d", got.Number, tc.want)
			}
		})
	}
}

// A workload whose spec never changed has no ControllerRevision: its spec is revision 1, the
// current one, and there is nothing to roll back to.
func TestAWorkloadWithoutRevisionsHasItsSpecAsRevisionOne(t *testing.T) {
	wl := historyWorkload()
	wl.CreationTimestamp = metav1.NewTime(now.Add(-time.Hour))
	other := revisionOf(t, wl, 4, "x", "other", time.Hour)
	other.OwnerReferences[0].UID = "someone-else"
	revs, err := WorkloadRevisions(wl, []appsv1.ControllerRevision{other})
	if err != nil {
		t.Fatal(err)
	}
	want := []Revision{{Number: 1, Hash: "h2", Created: wl.CreationTimestamp.Time, Current: true,
		Spec: &doradev1.WorkloadSpec{Image: doradev1.ImageSpec{Image: "ubuntu:26.04"}}}}
	if diff := cmp.Diff(want, revs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if wl.Spec.Replica == nil || !wl.Spec.Paused {
		t.Error("the workload's own spec was changed")
	}
	var out bytes.Buffer
	if err := PrintTable(&out, HistoryTable(revs, now), true, false); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("REVISION   CREATED   CURRENT   HASH   IMAGE          GPUS     CMD\n1          60m       *         h2     ubuntu:26.04   <none>   <image's>\n", out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	if r, err := RollbackTarget(revs, 1); err != nil || !r.Current {
		t.Errorf("rollback to 1: %+v, %v; want the current revision, no error", r, err)
	}
	_, err = RollbackTarget(revs, 0)
	checkErr(t, err, "there is no earlier revision to go back to (kept: 1)")
}

func TestARolledBackSpecKeepsTheReplicaCountAndPaused(t *testing.T) {
	wl := historyWorkload()
	old := Revision{Number: 1, Spec: &doradev1.WorkloadSpec{Image: doradev1.ImageSpec{Image: "ubuntu:22.04"}, Hostname: "h"}}
	got := RolledBackSpec(wl, old)
	want := doradev1.WorkloadSpec{Image: doradev1.ImageSpec{Image: "ubuntu:22.04"}, Hostname: "h", Replica: &doradev1.ReplicaSpec{Count: ptr.To[int32](3)}, Paused: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if old.Spec.Replica != nil {
		t.Error("the revision itself was changed")
	}
}
