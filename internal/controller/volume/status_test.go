package volume

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// The volume team-a/scratch of workspace team.a, generation 3, on Storage nfs-home
// (nfs.example.org:/export/home).
const (
	testNamespace = "team-a"
	testVolume    = "scratch"
	testStorage   = "nfs-home"
	testServer    = "nfs.example.org"
	testPath      = "/export/home/team.a/scratch"
	testPVName    = "dora.team-a.scratch"
	testGen       = int64(3)
)

func testVol() *doradev1.Volume {
	return &doradev1.Volume{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: testVolume, Generation: testGen},
		Spec:       doradev1.VolumeSpec{Storage: testStorage},
	}
}

func testDir(t *testing.T) *nfs.Directory {
	t.Helper()
	st := &doradev1.Storage{
		ObjectMeta: metav1.ObjectMeta{Name: testStorage},
		Spec:       doradev1.StorageSpec{Endpoint: testServer, Mountpath: "/export/home/"},
	}
	dir, err := nfs.VolumeDirectory(st, "team.a", testVol())
	if err != nil {
		t.Fatalf("VolumeDirectory: %v", err)
	}
	if dir.Path() != testPath {
		t.Fatalf("test fixture: directory %s, want %s", dir.Path(), testPath)
	}
	return &dir
}

func claimIn(phase corev1.PersistentVolumeClaimPhase) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: testVolume},
		Status:     corev1.PersistentVolumeClaimStatus{Phase: phase},
	}
}

// wantCond is what a test expects of one condition; a nil *wantCond means the condition
// must be absent.
type wantCond struct {
	status metav1.ConditionStatus
	reason string
	// message must contain each of these.
	msgHas []string
	// msgSuffix, when set, must end the message.
	msgSuffix string
	// msgExact, when set, is the whole message.
	msgExact string
}

func checkCond(t *testing.T, conds []metav1.Condition, typ string, want *wantCond) {
	t.Helper()
	got := meta.FindStatusCondition(conds, typ)
	if want == nil {
		if got != nil {
			t.Errorf("condition %s = %+v, want none", typ, *got)
		}
		return
	}
	if got == nil {
		t.Errorf("condition %s missing, want %s/%s", typ, want.status, want.reason)
		return
	}
	if got.Status != want.status || got.Reason != want.reason {
		t.Errorf("condition %s = %s/%s, want %s/%s (message %q)", typ, got.Status, got.Reason, want.status, want.reason, got.Message)
	}
	for _, s := range want.msgHas {
		if !strings.Contains(got.Message, s) {
			t.Errorf("condition %s message %q does not contain %q", typ, got.Message, s)
		}
	}
	if want.msgSuffix != "" && !strings.HasSuffix(got.Message, want.msgSuffix) {
		t.Errorf("condition %s message %q does not end with %q", typ, got.Message, want.msgSuffix)
	}
	if want.msgExact != "" && got.Message != want.msgExact {
		t.Errorf("condition %s message %q, want %q", typ, got.Message, want.msgExact)
	}
	if got.ObservedGeneration != testGen {
		t.Errorf("condition %s observedGeneration = %d, want the volume's generation %d", typ, got.ObservedGeneration, testGen)
	}
	if got.LastTransitionTime.IsZero() {
		t.Errorf("condition %s has no lastTransitionTime", typ)
	}
}

func TestComputeStatus(t *testing.T) {
	dir := testDir(t)
	overlap := &doradev1.Storage{
		ObjectMeta: metav1.ObjectMeta{Name: "nfs-old"},
		Spec:       doradev1.StorageSpec{Endpoint: testServer, Mountpath: "/export"},
	}
	const clash = "PersistentVolume dora.team-a.scratch exists and is not this volume's"

	cases := []struct {
		name string
		obs  observation
		// located: status.server, path, persistentVolumeName and claimName are filled from
		// obs.dir; otherwise they stay empty.
		located  bool
		ready    *wantCond
		dirReady *wantCond
		// stalled: kstatus's Stalled is True with Ready's reason and message.
		stalled bool
	}{
		{
			name: "storage missing: the user is told to create it",
			obs:  observation{storageMissing: true},
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonStorageNotFound,
				msgHas: []string{"Storage " + testStorage + " does not exist", "create it"}},
		},
		{
			name:    "storage deleting",
			stalled: true,
			obs:     observation{storageDeleting: true},
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonStorageDeleting,
				msgHas: []string{"Storage " + testStorage, "being deleted"}},
		},
		{
			name:    "export overlaps an older storage: the other storage is named",
			stalled: true,
			obs:     observation{overlap: overlap},
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryClash,
				msgHas: []string{"nfs-old", testServer + ":/export", testStorage}},
		},
		{
			name:    "no directory can be computed",
			stalled: true,
			obs:     observation{invalid: `spec.subpath "/x" must be a relative path without '..'`},
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryFailed,
				msgExact: `spec.subpath "/x" must be a relative path without '..'`},
		},
		{
			name:    "directory pending",
			obs:     observation{dir: dir, dirState: dirPending},
			located: true,
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryPending,
				msgHas: []string{testPath, testServer}},
			dirReady: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryPending,
				msgHas: []string{testPath, testServer}},
		},
		{
			name:    "directory failed: Ready carries the failure as found (with how to retry)",
			stalled: true,
			obs:     observation{dir: dir, dirState: dirFailed, dirMessage: "mkdir: permission denied; delete the Job to try again"},
			located: true,
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryFailed,
				msgHas: []string{"mkdir: permission denied"}, msgSuffix: "delete the Job to try again"},
			dirReady: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryFailed,
				msgExact: "mkdir: permission denied; delete the Job to try again"},
		},
		{
			name:    "name clash",
			stalled: true,
			obs:     observation{dir: dir, dirState: dirCreated, clash: clash},
			located: true,
			ready:   &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonNameClash, msgExact: clash},
			dirReady: &wantCond{status: metav1.ConditionTrue, reason: doradev1.ReasonDirectoryCreated,
				msgHas: []string{testPath, testServer}},
		},
		{
			name:    "claim not made yet: pending, naming the PersistentVolume",
			obs:     observation{dir: dir, dirState: dirCreated},
			located: true,
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonClaimPending,
				msgHas: []string{"claim " + testVolume + " is Pending", "PersistentVolume " + testPVName}},
			dirReady: &wantCond{status: metav1.ConditionTrue, reason: doradev1.ReasonDirectoryCreated},
		},
		{
			name:    "claim with no phase yet counts as Pending",
			obs:     observation{dir: dir, dirState: dirCreated, claim: claimIn("")},
			located: true,
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonClaimPending,
				msgHas: []string{"claim " + testVolume + " is Pending", "PersistentVolume " + testPVName}},
			dirReady: &wantCond{status: metav1.ConditionTrue, reason: doradev1.ReasonDirectoryCreated},
		},
		{
			name:    "claim Pending",
			obs:     observation{dir: dir, dirState: dirCreated, claim: claimIn(corev1.ClaimPending)},
			located: true,
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonClaimPending,
				msgHas: []string{"claim " + testVolume + " is Pending", "PersistentVolume " + testPVName}},
			dirReady: &wantCond{status: metav1.ConditionTrue, reason: doradev1.ReasonDirectoryCreated},
		},
		{
			name:    "claim Lost is not ready and says so",
			obs:     observation{dir: dir, dirState: dirCreated, claim: claimIn(corev1.ClaimLost)},
			located: true,
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonClaimPending,
				msgHas: []string{"claim " + testVolume + " is Lost", "PersistentVolume " + testPVName}},
			dirReady: &wantCond{status: metav1.ConditionTrue, reason: doradev1.ReasonDirectoryCreated},
		},
		{
			name:    "claim Bound: ready",
			obs:     observation{dir: dir, dirState: dirCreated, claim: claimIn(corev1.ClaimBound)},
			located: true,
			ready: &wantCond{status: metav1.ConditionTrue, reason: doradev1.ReasonClaimBound,
				msgHas: []string{"claim " + testVolume, testServer + ":" + testPath}},
			dirReady: &wantCond{status: metav1.ConditionTrue, reason: doradev1.ReasonDirectoryCreated,
				msgHas: []string{testPath, testServer}},
		},

		// Precedence.
		{
			name: "storage missing wins over everything",
			obs: observation{storageMissing: true, storageDeleting: true, overlap: overlap, invalid: "bad",
				dir: dir, dirState: dirFailed, dirMessage: "boom", clash: clash, claim: claimIn(corev1.ClaimBound)},
			located: true,
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonStorageNotFound,
				msgHas: []string{testStorage}},
			dirReady: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryFailed},
		},
		{
			name:    "storage deleting wins over an overlap",
			stalled: true,
			obs:     observation{storageDeleting: true, overlap: overlap},
			ready:   &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonStorageDeleting},
		},
		{
			name:     "a pending directory wins over a clash and a bound claim",
			obs:      observation{dir: dir, dirState: dirPending, clash: clash, claim: claimIn(corev1.ClaimBound)},
			located:  true,
			ready:    &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryPending},
			dirReady: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryPending},
		},
		{
			name:    "a failed directory wins over a clash",
			stalled: true,
			obs:     observation{dir: dir, dirState: dirFailed, dirMessage: "boom", clash: clash},
			located: true,
			ready: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryFailed,
				msgExact: "boom"},
			dirReady: &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonDirectoryFailed},
		},
		{
			name:     "a clash wins over a bound claim",
			stalled:  true,
			obs:      observation{dir: dir, dirState: dirCreated, clash: clash, claim: claimIn(corev1.ClaimBound)},
			located:  true,
			ready:    &wantCond{status: metav1.ConditionFalse, reason: doradev1.ReasonNameClash, msgExact: clash},
			dirReady: &wantCond{status: metav1.ConditionTrue, reason: doradev1.ReasonDirectoryCreated},
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vol := testVol()
			before := vol.DeepCopy()
			st := computeStatus(vol, tc.obs)

			if !apiequality.Semantic.DeepEqual(before, vol) {
				t.Errorf("computeStatus changed the volume it was given")
			}
			if st.ObservedGeneration != testGen {
				t.Errorf("observedGeneration = %d, want %d", st.ObservedGeneration, testGen)
			}
			checkCond(t, st.Conditions, doradev1.ConditionReady, tc.ready)
			checkCond(t, st.Conditions, doradev1.VolumeDirectoryReady, tc.dirReady)
			wantN := 1
			if tc.dirReady != nil {
				wantN++
			}
			if tc.stalled {
				wantN++
				ready := meta.FindStatusCondition(st.Conditions, doradev1.ConditionReady)
				checkCond(t, st.Conditions, doradev1.ConditionStalled, &wantCond{status: metav1.ConditionTrue, reason: ready.Reason, msgExact: ready.Message})
			} else {
				checkCond(t, st.Conditions, doradev1.ConditionStalled, nil)
			}
			if len(st.Conditions) != wantN {
				t.Errorf("conditions = %+v, want only Ready and (when expected) DirectoryReady and Stalled", st.Conditions)
			}

			var server, path, pv, claim string
			if tc.located {
				server, path, pv, claim = testServer, testPath, testPVName, testVolume
			}
			if st.Server != server || st.Path != path || st.PersistentVolumeName != pv || st.ClaimName != claim {
				t.Errorf("server, path, persistentVolumeName, claimName = %q, %q, %q, %q; want %q, %q, %q, %q",
					st.Server, st.Path, st.PersistentVolumeName, st.ClaimName, server, path, pv, claim)
			}

			// Idempotence: a reconcile that observes the same again computes the same
			// status, transition times included, so it writes nothing.
			vol.Status = st
			again := computeStatus(vol, tc.obs)
			if !apiequality.Semantic.DeepEqual(st, again) {
				t.Errorf("second computeStatus differs:\nfirst:  %+v\nsecond: %+v", st, again)
			}
		})
	}
}

// A condition whose status stays keeps its lastTransitionTime, even when its reason and
// message change; one whose status flips gets a new one. Every condition takes the
// volume's generation.
func TestComputeStatusKeepsTransitionTimes(t *testing.T) {
	dir := testDir(t)
	old := metav1.NewTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	vol := testVol()
	vol.Status = doradev1.VolumeStatus{
		ObservedGeneration: 1,
		Conditions: []metav1.Condition{
			{Type: doradev1.ConditionReady, Status: metav1.ConditionFalse, Reason: doradev1.ReasonStorageNotFound,
				Message: "Storage nfs-home does not exist", ObservedGeneration: 1, LastTransitionTime: old},
			{Type: doradev1.VolumeDirectoryReady, Status: metav1.ConditionFalse, Reason: doradev1.ReasonDirectoryPending,
				Message: "a Job is creating it", ObservedGeneration: 1, LastTransitionTime: old},
		},
	}

	// Ready stays False (StorageNotFound → ClaimPending); DirectoryReady flips to True.
	st := computeStatus(vol, observation{dir: dir, dirState: dirCreated, claim: claimIn(corev1.ClaimPending)})

	ready := meta.FindStatusCondition(st.Conditions, doradev1.ConditionReady)
	if ready == nil || ready.Reason != doradev1.ReasonClaimPending {
		t.Fatalf("Ready = %+v, want reason %s", ready, doradev1.ReasonClaimPending)
	}
	if !ready.LastTransitionTime.Equal(&old) {
		t.Errorf("Ready stayed False and its lastTransitionTime moved from %v to %v", old, ready.LastTransitionTime)
	}
	dirReady := meta.FindStatusCondition(st.Conditions, doradev1.VolumeDirectoryReady)
	if dirReady == nil || dirReady.Status != metav1.ConditionTrue {
		t.Fatalf("DirectoryReady = %+v, want True", dirReady)
	}
	if dirReady.LastTransitionTime.Equal(&old) {
		t.Errorf("DirectoryReady flipped to True and kept its old lastTransitionTime %v", old)
	}
	for _, c := range st.Conditions {
		if c.ObservedGeneration != testGen {
			t.Errorf("condition %s observedGeneration = %d, want %d", c.Type, c.ObservedGeneration, testGen)
		}
	}
	if st.ObservedGeneration != testGen {
		t.Errorf("observedGeneration = %d, want %d", st.ObservedGeneration, testGen)
	}
	// The volume's own status was not touched.
	if got := meta.FindStatusCondition(vol.Status.Conditions, doradev1.ConditionReady); got.Reason != doradev1.ReasonStorageNotFound {
		t.Errorf("computeStatus rewrote the volume's own Ready condition: %+v", *got)
	}
}

func TestDeletingStatus(t *testing.T) {
	old := metav1.NewTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	cases := []struct {
		name, reason, message string
		// prevReady is the Ready status before; a False one keeps its transition time.
		prevReady metav1.ConditionStatus
	}{
		{"deleting a ready volume", doradev1.ReasonDeleting, "a Job is removing nfs.example.org:/export/home/team.a/scratch", metav1.ConditionTrue},
		{"removing the data failed", doradev1.ReasonDeleteFailed, "rm: permission denied", metav1.ConditionFalse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vol := testVol()
			vol.Status = doradev1.VolumeStatus{
				ObservedGeneration:   2,
				Server:               testServer,
				Path:                 testPath,
				PersistentVolumeName: testPVName,
				ClaimName:            testVolume,
				Conditions: []metav1.Condition{
					{Type: doradev1.ConditionReady, Status: tc.prevReady, Reason: doradev1.ReasonClaimBound,
						Message: "bound", ObservedGeneration: 2, LastTransitionTime: old},
					{Type: doradev1.VolumeDirectoryReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonDirectoryCreated,
						Message: "exists", ObservedGeneration: 2, LastTransitionTime: old},
				},
			}
			before := vol.DeepCopy()

			st := deletingStatus(vol, tc.reason, tc.message)

			if !apiequality.Semantic.DeepEqual(before, vol) {
				t.Errorf("deletingStatus changed the volume it was given")
			}
			ready := meta.FindStatusCondition(st.Conditions, doradev1.ConditionReady)
			if ready == nil {
				t.Fatalf("no Ready condition")
			}
			if ready.Status != metav1.ConditionFalse || ready.Reason != tc.reason || ready.Message != tc.message {
				t.Errorf("Ready = %s/%s %q, want False/%s %q", ready.Status, ready.Reason, ready.Message, tc.reason, tc.message)
			}
			if ready.ObservedGeneration != testGen {
				t.Errorf("Ready observedGeneration = %d, want %d", ready.ObservedGeneration, testGen)
			}
			if keep := tc.prevReady == metav1.ConditionFalse; ready.LastTransitionTime.Equal(&old) != keep {
				t.Errorf("Ready went %s → False; lastTransitionTime %v (old %v), want kept = %v", tc.prevReady, ready.LastTransitionTime, old, keep)
			}

			// Everything else is as it was.
			want := before.Status.DeepCopy()
			want.Conditions[0] = *ready
			if !apiequality.Semantic.DeepEqual(*want, st) {
				t.Errorf("deletingStatus changed more than Ready:\ngot:  %+v\nwant: %+v", st, *want)
			}
		})
	}
}
