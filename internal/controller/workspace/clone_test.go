package workspace

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// cloneOf is workspace bob (generation 2), a clone of alice in progress with objects.
func cloneOf(objects ...doradev1.ClonedObject) *doradev1.Workspace {
	start := metav1.NewTime(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	return &doradev1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "bob", Generation: 2},
		Spec:       doradev1.WorkspaceSpec{CloneFrom: "alice"},
		Status: doradev1.WorkspaceStatus{Clone: &doradev1.CloneStatus{
			Source: "alice", Phase: doradev1.CloneRunning, StartTime: &start, Objects: objects,
		}},
	}
}

func obj(kind, name, state, message string) doradev1.ClonedObject {
	return doradev1.ClonedObject{Kind: kind, Name: name, State: state, Message: message}
}

func TestSummarizeClone(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 5, 0, 0, time.UTC)
	refused := "the API server refused the copy: spec.image: Required value"

	cases := []struct {
		name    string
		objects []doradev1.ClonedObject
		phase   string
		status  metav1.ConditionStatus
		reason  string
		// msgHas must all be in the Cloned message; msgHasNot must not be.
		msgHas    []string
		msgHasNot []string
		// completed: completionTime is now; otherwise it stays unset.
		completed bool
	}{
		{
			name: "objects pending or copying: running, listing what is left",
			objects: []doradev1.ClonedObject{
				obj(kindVolume, "data", doradev1.CloneDone, ""),
				obj(kindVolume, "scratch", doradev1.CloneCopying, "waiting for the new volume's directory"),
				obj(kindWorkload, "train", doradev1.ClonePending, ""),
				obj(kindWorkload, "eval", doradev1.CloneFailed, refused),
			},
			phase: doradev1.CloneRunning, status: metav1.ConditionFalse, reason: doradev1.ReasonCloning,
			msgHas:    []string{"alice", "2 of 4 objects left", "Volume scratch", "Workload train"},
			msgHasNot: []string{"Volume data", "Workload eval"},
		},
		{
			name:    "one object still pending keeps the clone running",
			objects: []doradev1.ClonedObject{obj(kindVolume, "data", doradev1.ClonePending, "")},
			phase:   doradev1.CloneRunning, status: metav1.ConditionFalse, reason: doradev1.ReasonCloning,
			msgHas: []string{"1 of 1 objects left", "Volume data"},
		},
		{
			name: "all done: complete, counting volumes and workloads, which are paused",
			objects: []doradev1.ClonedObject{
				obj(kindVolume, "data", doradev1.CloneDone, "data copied from nfs:/x"),
				obj(kindVolume, "scratch", doradev1.CloneDone, ""),
				obj(kindWorkload, "train", doradev1.CloneDone, ""),
			},
			phase: doradev1.CloneComplete, status: metav1.ConditionTrue, reason: doradev1.ReasonCloneComplete,
			msgHas:    []string{"copied 2 volumes and 1 workloads from alice", "workloads are paused"},
			completed: true,
		},
		{
			name:    "a source with nothing in it is complete at once",
			objects: nil,
			phase:   doradev1.CloneComplete, status: metav1.ConditionTrue, reason: doradev1.ReasonCloneComplete,
			msgHas:    []string{"copied 0 volumes and 0 workloads from alice"},
			completed: true,
		},
		{
			name: "some failed, none waiting: failed, naming each failure and why",
			objects: []doradev1.ClonedObject{
				obj(kindVolume, "data", doradev1.CloneDone, ""),
				obj(kindWorkload, "train", doradev1.CloneDone, ""),
				obj(kindWorkload, "eval", doradev1.CloneFailed, refused),
			},
			phase: doradev1.CloneFailed, status: metav1.ConditionFalse, reason: doradev1.ReasonCloneFailed,
			msgHas:    []string{"1 of 3 objects of alice could not be copied", "Workload eval: " + refused},
			msgHasNot: []string{"Volume data", "Workload train"},
			completed: true,
		},
		{
			name: "all failed",
			objects: []doradev1.ClonedObject{
				obj(kindVolume, "data", doradev1.CloneFailed, "the source volume no longer exists"),
				obj(kindWorkload, "train", doradev1.CloneFailed, "the source workload no longer exists"),
			},
			phase: doradev1.CloneFailed, status: metav1.ConditionFalse, reason: doradev1.ReasonCloneFailed,
			msgHas: []string{"2 of 2", "Volume data: the source volume no longer exists",
				"Workload train: the source workload no longer exists"},
			completed: true,
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := cloneOf(tc.objects...)
			startBefore := ws.Status.Clone.StartTime.DeepCopy()
			objectsBefore := append([]doradev1.ClonedObject(nil), tc.objects...)

			summarizeClone(ws, now)

			cl := ws.Status.Clone
			if cl.Phase != tc.phase {
				t.Errorf("phase = %s, want %s", cl.Phase, tc.phase)
			}
			c := meta.FindStatusCondition(ws.Status.Conditions, doradev1.WorkspaceCloned)
			if c == nil {
				t.Fatalf("no Cloned condition")
			}
			if c.Status != tc.status || c.Reason != tc.reason {
				t.Errorf("Cloned = %s/%s, want %s/%s (message %q)", c.Status, c.Reason, tc.status, tc.reason, c.Message)
			}
			if c.ObservedGeneration != 2 {
				t.Errorf("Cloned observedGeneration = %d, want the workspace's generation 2", c.ObservedGeneration)
			}
			for _, s := range tc.msgHas {
				if !strings.Contains(c.Message, s) {
					t.Errorf("Cloned message %q does not contain %q", c.Message, s)
				}
			}
			for _, s := range tc.msgHasNot {
				if strings.Contains(c.Message, s) {
					t.Errorf("Cloned message %q mentions %q", c.Message, s)
				}
			}
			switch {
			case !tc.completed && cl.CompletionTime != nil:
				t.Errorf("completionTime = %v while the clone is running", cl.CompletionTime)
			case tc.completed && cl.CompletionTime == nil:
				t.Errorf("no completionTime once the clone ended")
			case tc.completed && !cl.CompletionTime.Time.Equal(now):
				t.Errorf("completionTime = %v, want %v", cl.CompletionTime, now)
			}
			// The rest of the clone status is the caller's.
			if cl.Source != "alice" || !apiequality.Semantic.DeepEqual(cl.StartTime, startBefore) ||
				!apiequality.Semantic.DeepEqual(cl.Objects, objectsBefore) {
				t.Errorf("summarizeClone changed source, startTime or objects: %+v", *cl)
			}
			if len(ws.Status.Conditions) != 1 {
				t.Errorf("conditions = %+v, want only Cloned", ws.Status.Conditions)
			}

			// Summarizing again, later, changes nothing: the completion time stays when the
			// clone ended and the condition keeps its transition time.
			first := ws.Status.DeepCopy()
			summarizeClone(ws, now.Add(time.Hour))
			if !apiequality.Semantic.DeepEqual(*first, ws.Status) {
				t.Errorf("a second summarizeClone changed the status:\nfirst:  %+v\nsecond: %+v", *first, ws.Status)
			}
		})
	}
}

// A clone that ends after running gets the time it ended, and its Cloned condition a new
// transition time when it turns True.
func TestSummarizeCloneEndsARunningClone(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 9, 1, 0, 0, time.UTC)
	t1 := t0.Add(10 * time.Minute)
	ws := cloneOf(obj(kindVolume, "data", doradev1.CloneCopying, "Job copy-data is copying"))

	summarizeClone(ws, t0)
	if ws.Status.Clone.Phase != doradev1.CloneRunning || ws.Status.Clone.CompletionTime != nil {
		t.Fatalf("after t0: phase %s, completionTime %v; want Running and none", ws.Status.Clone.Phase, ws.Status.Clone.CompletionTime)
	}
	old := metav1.NewTime(t0.Add(-time.Hour))
	meta.FindStatusCondition(ws.Status.Conditions, doradev1.WorkspaceCloned).LastTransitionTime = old

	ws.Status.Clone.Objects[0].State = doradev1.CloneDone
	summarizeClone(ws, t1)
	if ws.Status.Clone.Phase != doradev1.CloneComplete {
		t.Errorf("phase = %s, want %s", ws.Status.Clone.Phase, doradev1.CloneComplete)
	}
	if ct := ws.Status.Clone.CompletionTime; ct == nil || !ct.Time.Equal(t1) {
		t.Errorf("completionTime = %v, want %v", ct, t1)
	}
	c := meta.FindStatusCondition(ws.Status.Conditions, doradev1.WorkspaceCloned)
	if c.Status != metav1.ConditionTrue || c.LastTransitionTime.Equal(&old) {
		t.Errorf("Cloned = %s at %v, want True with a new transition time", c.Status, c.LastTransitionTime)
	}

	summarizeClone(ws, t1.Add(time.Hour))
	if ct := ws.Status.Clone.CompletionTime; !ct.Time.Equal(t1) {
		t.Errorf("completionTime moved to %v on a later call, want it kept at %v", ct, t1)
	}
}

func TestCopyMeta(t *testing.T) {
	created := metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	src := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{
		Namespace:         "alice",
		Name:              "data",
		UID:               "src-uid",
		ResourceVersion:   "42",
		Generation:        7,
		CreationTimestamp: created,
		Finalizers:        []string{doradev1.FinalizerVolume},
		OwnerReferences:   []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: "owner-uid", Controller: ptr.To(true)}},
		Labels:            map[string]string{"app": "train", "tier": "gpu"},
		Annotations: map[string]string{
			corev1.LastAppliedConfigAnnotation: `{"apiVersion":"dora.dev/v1alpha1"}`,
			"team":                             "ml",
		},
	}}
	before := src.DeepCopy()

	got := copyMeta(src, "bob", "")

	// Only the name, namespace, labels and annotations: no UID, resourceVersion, owners,
	// finalizers or timestamps of the source.
	want := metav1.ObjectMeta{
		Namespace:   "bob",
		Name:        "data",
		Labels:      map[string]string{"app": "train", "tier": "gpu"},
		Annotations: map[string]string{"team": "ml", doradev1.AnnotationClonedFrom: "alice/data"},
	}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("copyMeta =\n  %+v\nwant\n  %+v", got, want)
	}
	if !apiequality.Semantic.DeepEqual(src, before) {
		t.Errorf("copyMeta changed the source: %+v", src.ObjectMeta)
	}

	// The copy's maps are its own.
	got.Labels["app"] = "changed"
	got.Labels["new"] = "x"
	got.Annotations["team"] = "changed"
	delete(got.Annotations, doradev1.AnnotationClonedFrom)
	if !maps.Equal(src.Labels, before.Labels) || !maps.Equal(src.Annotations, before.Annotations) {
		t.Errorf("changing the copy's metadata changed the source's: labels %v, annotations %v", src.Labels, src.Annotations)
	}
}

func TestCopyMetaOfBareAndClonedObjects(t *testing.T) {
	cases := []struct {
		name string
		src  metav1.ObjectMeta
		want metav1.ObjectMeta
	}{
		{
			name: "no labels nor annotations",
			src:  metav1.ObjectMeta{Namespace: "alice", Name: "train"},
			want: metav1.ObjectMeta{Namespace: "bob", Name: "train",
				Annotations: map[string]string{doradev1.AnnotationClonedFrom: "alice/train"}},
		},
		{
			name: "only kubectl's record",
			src: metav1.ObjectMeta{Namespace: "alice", Name: "train",
				Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}},
			want: metav1.ObjectMeta{Namespace: "bob", Name: "train",
				Annotations: map[string]string{doradev1.AnnotationClonedFrom: "alice/train"}},
		},
		{
			name: "a copy of a copy names its own source",
			src: metav1.ObjectMeta{Namespace: "alice", Name: "train",
				Annotations: map[string]string{doradev1.AnnotationClonedFrom: "carol/train"}},
			want: metav1.ObjectMeta{Namespace: "bob", Name: "train",
				Annotations: map[string]string{doradev1.AnnotationClonedFrom: "alice/train"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &doradev1.Workload{ObjectMeta: tc.src}
			before := src.DeepCopy()
			got := copyMeta(src, "bob", "")
			if !apiequality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("copyMeta =\n  %+v\nwant\n  %+v", got, tc.want)
			}
			if !apiequality.Semantic.DeepEqual(src, before) {
				t.Errorf("copyMeta changed the source: %+v", src.ObjectMeta)
			}
		})
	}
}

func TestMadeByClone(t *testing.T) {
	cases := []struct {
		name        string
		annotations map[string]string
		want        bool
	}{
		{"the copy of alice/data", map[string]string{doradev1.AnnotationClonedFrom: "alice/data"}, true},
		{"a copy of another object", map[string]string{doradev1.AnnotationClonedFrom: "alice/other"}, false},
		{"a copy from another workspace", map[string]string{doradev1.AnnotationClonedFrom: "carol/data"}, false},
		{"the name alone", map[string]string{doradev1.AnnotationClonedFrom: "data"}, false},
		{"empty annotation", map[string]string{doradev1.AnnotationClonedFrom: ""}, false},
		{"the value under another key", map[string]string{doradev1.AnnotationSourceVolume: "alice/data"}, false},
		{"no annotations", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Namespace: "bob", Name: "data", Annotations: tc.annotations}}
			if got := madeByClone(o, "alice", "data"); got != tc.want {
				t.Errorf("madeByClone(%v, alice, data) = %v, want %v", tc.annotations, got, tc.want)
			}
		})
	}

	// What copyMeta makes, madeByClone recognizes.
	src := &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: "alice", Name: "train"}}
	dst := &doradev1.Workload{ObjectMeta: copyMeta(src, "bob", "")}
	if !madeByClone(dst, "alice", "train") {
		t.Errorf("madeByClone does not recognize copyMeta's copy: %v", dst.Annotations)
	}
	if madeByClone(dst, "alice", "eval") {
		t.Errorf("madeByClone takes the copy of alice/train for one of alice/eval")
	}
}

func TestCopyStep(t *testing.T) {
	done := objectState{state: doradev1.CloneDone}
	cases := map[string]struct {
		kind     string
		found    copySituation
		withData bool
		want     cloneStep
	}{
		"the source volume is gone: failed, the copy not looked at": {
			kind: kindVolume, found: sourceGone, withData: true,
			want: cloneStep{state: objectState{doradev1.CloneFailed, "the source volume no longer exists"}},
		},
		"the source workload is gone: failed": {
			kind: kindWorkload, found: sourceGone,
			want: cloneStep{state: objectState{doradev1.CloneFailed, "the source workload no longer exists"}},
		},
		"no copy of a volume: created, then done": {
			kind: kindVolume, found: copyMissing,
			want: cloneStep{create: true, state: done},
		},
		"no copy of a volume whose data is copied: created, then waiting for its directory": {
			kind: kindVolume, found: copyMissing, withData: true,
			want: cloneStep{create: true, state: objectState{doradev1.CloneCopying, "waiting for the new volume's directory"}},
		},
		"no copy of a workload: created, then done": {
			kind: kindWorkload, found: copyMissing,
			want: cloneStep{create: true, state: done},
		},
		"our copy of a volume: done": {
			kind: kindVolume, found: copyOurs,
			want: cloneStep{state: done},
		},
		"our copy of a volume whose data is copied: the data is copied next": {
			kind: kindVolume, found: copyOurs, withData: true,
			want: cloneStep{copyData: true},
		},
		"our copy of a workload: done": {
			kind: kindWorkload, found: copyOurs,
			want: cloneStep{state: done},
		},
		"a volume of that name the clone did not make: failed, and left as it is": {
			kind: kindVolume, found: copyForeign, withData: true,
			want: cloneStep{state: objectState{doradev1.CloneFailed,
				"a volume data already exists in namespace bob and is not a copy of the source's; it is left as it is"}},
		},
		"a workload of that name the clone did not make: failed, and left as it is": {
			kind: kindWorkload, found: copyForeign,
			want: cloneStep{state: objectState{doradev1.CloneFailed,
				"a workload data already exists in namespace bob and is not a copy of the source's; it is left as it is"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := copyStep(tc.kind, "data", "bob", tc.found, tc.withData)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(cloneStep{}, objectState{})); diff != "" {
				t.Errorf("step (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStateAfterCreate(t *testing.T) {
	made := objectState{doradev1.CloneCopying, "waiting for the new volume's directory"}
	gr := schema.GroupResource{Group: "dora.dev", Resource: "workloads"}
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: "dora.dev", Kind: "Workload"}, "train",
		field.ErrorList{field.Required(field.NewPath("spec", "image"), "")})
	cases := map[string]struct {
		err       error
		want      objectState
		wantRetry bool
	}{
		"made": {err: nil, want: made},
		"the name is taken: pending until whose it is is known": {
			err:  apierrors.NewAlreadyExists(gr, "train"),
			want: objectState{doradev1.ClonePending, "an object of this name exists; checking whose it is"},
		},
		"the spec no longer passes validation: failed, with the API server's words": {
			err:  invalid,
			want: objectState{doradev1.CloneFailed, "the API server refused the copy: " + invalid.Error()},
		},
		"admission says no: failed": {
			err:  apierrors.NewForbidden(gr, "train", errors.New("quota exceeded")),
			want: objectState{doradev1.CloneFailed, "the API server refused the copy: " + apierrors.NewForbidden(gr, "train", errors.New("quota exceeded")).Error()},
		},
		"a bad request: failed": {
			err:  apierrors.NewBadRequest("no"),
			want: objectState{doradev1.CloneFailed, "the API server refused the copy: no"},
		},
		"the API server is slow: retried": {err: apierrors.NewServerTimeout(gr, "create", 1), wantRetry: true},
		"anything else: retried":          {err: errors.New("connection refused"), wantRetry: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := stateAfterCreate(tc.err, made)
			if ok == tc.wantRetry {
				t.Fatalf("stateAfterCreate(%v) ok = %v, want %v", tc.err, ok, !tc.wantRetry)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(objectState{})); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDirectoryWait(t *testing.T) {
	vol := func(ready bool) *doradev1.Volume {
		v := &doradev1.Volume{}
		if ready {
			v.Status.Conditions = []metav1.Condition{{Type: doradev1.VolumeDirectoryReady, Status: metav1.ConditionTrue}}
		}
		return v
	}
	cases := map[string]struct {
		src, dst    *doradev1.Volume
		want        objectState
		wantWaiting bool
	}{
		"neither made: the source is waited for first": {src: vol(false), dst: vol(false), wantWaiting: true,
			want: objectState{doradev1.CloneCopying, "waiting for the source volume's directory (see its status)"}},
		"the copy's not made": {src: vol(true), dst: vol(false), wantWaiting: true,
			want: objectState{doradev1.CloneCopying, "waiting for the new volume's directory (see its status)"}},
		"both made: no wait": {src: vol(true), dst: vol(true)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, waiting := directoryWait(tc.src, tc.dst)
			if waiting != tc.wantWaiting {
				t.Errorf("waiting = %v, want %v", waiting, tc.wantWaiting)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(objectState{})); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
}

// copyJob is the Job copying alice's data into bob's volume data, in the manager's
// namespace, owned by the workspace of UID owner and changed by each of edits.
func copyJob(t *testing.T, owner types.UID, edits ...func(*batchv1.Job)) *batchv1.Job {
	t.Helper()
	from := nfs.Directory{Server: "10.0.0.1", Export: "/export", Rel: "alice/data"}
	to := nfs.Directory{Server: "10.0.0.1", Export: "/export", Rel: "bob/data"}
	job, err := nfs.CopyJob(nfs.JobInputs{Namespace: "dora-system", Volume: types.NamespacedName{Namespace: "bob", Name: "data"}, VolumeUID: "data-uid"}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	job.Name = "copy-data"
	job.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "dora.dev/v1alpha1", Kind: "Workspace", Name: "bob", UID: owner, Controller: ptr.To(true)}}
	for _, edit := range edits {
		edit(job)
	}
	return job
}

func withConditions(conds ...batchv1.JobCondition) func(*batchv1.Job) {
	return func(j *batchv1.Job) { j.Status.Conditions = conds }
}

// The copy of a volume's data follows its Job, in the manager's namespace: the clone's own
// (owned by the workspace, marked by the manager as the copy into that volume) is trusted;
// any other Job of its name fails the object and is left alone.
func TestJobStep(t *testing.T) {
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "bob", UID: "bob-uid"}}
	dst := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Namespace: "bob", Name: "data", UID: "data-uid"}}
	from := nfs.Directory{Server: "10.0.0.1", Export: "/export", Rel: "alice/data"}
	complete := withConditions(batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue})
	copying := objectState{doradev1.CloneCopying, "Job copy-data is copying 10.0.0.1:/export/alice/data"}
	notOurs := cloneStep{state: objectState{doradev1.CloneFailed, "Job copy-data exists and is not this clone's"}}
	cases := map[string]struct {
		job  *batchv1.Job
		want cloneStep
	}{
		"no Job yet: created, then copying": {job: nil, want: cloneStep{create: true, state: copying}},
		"the clone's Job runs: copying":     {job: copyJob(t, "bob-uid"), want: cloneStep{state: copying}},
		"the clone's Job succeeded: done": {
			job:  copyJob(t, "bob-uid", complete),
			want: cloneStep{state: objectState{doradev1.CloneDone, "data copied from 10.0.0.1:/export/alice/data"}},
		},
		"the clone's Job failed: failed, with the Job's reason and where its logs are": {
			job: copyJob(t, "bob-uid", withConditions(batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "rsync exited 23"})),
			want: cloneStep{state: objectState{doradev1.CloneFailed,
				"Job copy-data failed (BackoffLimitExceeded): rsync exited 23; its pods' logs say more (kubectl logs -n dora-system job/copy-data)"}},
		},
		"a Job of that name of another workspace: failed, and left alone": {job: copyJob(t, "other-uid", complete), want: notOurs},
		"a Job of that name not marked by the manager: failed, and left alone": {
			job: copyJob(t, "bob-uid", complete, func(j *batchv1.Job) { delete(j.Labels, nfs.LabelManagedBy) }), want: notOurs},
		"the clone's Job copying into another volume: failed, and left alone": {
			job: copyJob(t, "bob-uid", complete, func(j *batchv1.Job) { j.Annotations[doradev1.AnnotationSourceVolume] = "bob/code" }), want: notOurs},
		"a mkdir Job of that name: failed, and left alone": {
			job: copyJob(t, "bob-uid", complete, func(j *batchv1.Job) { j.Labels[nfs.LabelJob] = nfs.JobMkdir }), want: notOurs},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := jobStep(ws, dst, "copy-data", tc.job, from)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(cloneStep{}, objectState{})); diff != "" {
				t.Errorf("step (-want +got):\n%s", diff)
			}
		})
	}
}

// A copy has the source's spec and metadata as copyMeta makes them; a workload's is
// paused, so nothing of the clone runs until the user says so. The source is untouched.
func TestCopiesOfVolumesAndWorkloads(t *testing.T) {
	vol := &doradev1.Volume{
		ObjectMeta: metav1.ObjectMeta{Namespace: "alice", Name: "data", UID: "vol-uid"},
		Spec:       doradev1.VolumeSpec{Storage: "nfs", Subpath: "x"},
	}
	wl := &doradev1.Workload{
		ObjectMeta: metav1.ObjectMeta{Namespace: "alice", Name: "train", UID: "wl-uid"},
		Spec:       doradev1.WorkloadSpec{Image: doradev1.ImageSpec{Image: "pytorch"}, Replica: &doradev1.ReplicaSpec{Count: ptr.To[int32](2)}},
	}
	volBefore, wlBefore := vol.DeepCopy(), wl.DeepCopy()

	gotVol := volumeCopy(vol, "bob", "")
	wantVol := &doradev1.Volume{ObjectMeta: copyMeta(vol, "bob", ""), Spec: vol.Spec}
	if diff := cmp.Diff(wantVol, gotVol); diff != "" {
		t.Errorf("volume copy (-want +got):\n%s", diff)
	}
	gotWl := workloadCopy(wl, "bob", "")
	wantWl := &doradev1.Workload{ObjectMeta: copyMeta(wl, "bob", ""), Spec: *wl.Spec.DeepCopy()}
	wantWl.Spec.Paused = true
	if diff := cmp.Diff(wantWl, gotWl); diff != "" {
		t.Errorf("workload copy (-want +got):\n%s", diff)
	}

	gotWl.Spec.Replica.Count = ptr.To[int32](5)
	if !apiequality.Semantic.DeepEqual(vol, volBefore) || !apiequality.Semantic.DeepEqual(wl, wlBefore) {
		t.Errorf("making or changing a copy changed its source")
	}
}

// A clone's data copy runs in the manager's namespace, never the clone's, and its Job goes
// once the status written records the copy: the reconcile after the one that saw it done.
func TestCopyJobRunsInTheManagersNamespaceAndGoesOnceRecorded(t *testing.T) {
	ctx := context.Background()
	start := metav1.NewTime(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	ws := &doradev1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "bob", UID: "bob-uid", Generation: 1, Finalizers: []string{doradev1.FinalizerWorkspace}},
		Spec:       doradev1.WorkspaceSpec{CloneFrom: "alice", CopyData: true},
		Status: doradev1.WorkspaceStatus{Clone: &doradev1.CloneStatus{Source: "alice", Phase: doradev1.CloneRunning, StartTime: &start,
			Objects: []doradev1.ClonedObject{obj(kindVolume, "data", doradev1.CloneCopying, "waiting for the new volume's directory")}}},
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bob", OwnerReferences: []metav1.OwnerReference{{
		APIVersion: "dora.dev/v1alpha1", Kind: "Workspace", Name: "bob", UID: "bob-uid", Controller: ptr.To(true)}}}}
	st := &doradev1.Storage{ObjectMeta: metav1.ObjectMeta{Name: "nfs"}, Spec: doradev1.StorageSpec{Endpoint: "10.0.0.1", Mountpath: "/export"}}
	made := []metav1.Condition{{Type: doradev1.VolumeDirectoryReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonDirectoryCreated, LastTransitionTime: start}}
	src := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Namespace: "alice", Name: "data"}, Spec: doradev1.VolumeSpec{Storage: "nfs"},
		Status: doradev1.VolumeStatus{Conditions: made}}
	dst := volumeCopy(src, "bob", "")
	dst.UID = "data-uid"
	dst.Status.Conditions = made
	c := testclient.Objects(ws, ns, st, src, dst)
	r := NewReconciler(c, &callLog{}, clocktesting.NewFakeClock(start.Time), Options{HelperNamespace: "dora-system"})
	reconcile := func() {
		t.Helper()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ws)}); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
	}
	key := client.ObjectKey{Namespace: "dora-system", Name: nfs.JobName(nfs.JobCopy, "bob", "data")}

	reconcile()
	job := &batchv1.Job{}
	if err := c.Get(ctx, key, job); err != nil {
		t.Fatalf("the copy Job should run in the manager's namespace: %v", err)
	}
	if target, ok := nfs.TargetOf(job); !ok || target != (nfs.JobTarget{Kind: nfs.JobCopy, Volume: client.ObjectKeyFromObject(dst), UID: dst.UID}) {
		t.Errorf("the copy Job names %+v, %v; want the copy bob/data", target, ok)
	}
	if !metav1.IsControlledBy(job, ws) || job.Annotations[doradev1.AnnotationClonedFrom] != "alice/data" {
		t.Errorf("the copy Job should be the workspace's, copying alice/data: owners %v, annotations %v", job.OwnerReferences, job.Annotations)
	}
	tenantJobs := &batchv1.JobList{}
	if err := c.List(ctx, tenantJobs, client.InNamespace("bob")); err != nil || len(tenantJobs.Items) > 0 {
		t.Errorf("the clone's namespace holds Jobs %v (%v); want none", tenantJobs.Items, err)
	}

	job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	if err := c.Status().Update(ctx, job); err != nil {
		t.Fatal(err)
	}
	reconcile()
	if err := c.Get(ctx, client.ObjectKeyFromObject(ws), ws); err != nil {
		t.Fatal(err)
	}
	if got := ws.Status.Clone.Objects[0].State; got != doradev1.CloneDone {
		t.Fatalf("the copy is %s, want %s", got, doradev1.CloneDone)
	}
	// The status recording the outcome was written in that reconcile, then the Job went.
	if err := c.Get(ctx, key, &batchv1.Job{}); !apierrors.IsNotFound(err) {
		t.Errorf("the finished copy Job should be gone once the status records it: %v", err)
	}
	reconcile()
	if err := c.Get(ctx, client.ObjectKeyFromObject(ws), ws); err != nil || ws.Status.Clone.Objects[0].State != doradev1.CloneDone {
		t.Errorf("the copy stays %s without its Job (%v)", ws.Status.Clone.Objects[0].State, err)
	}
}

// A copy belongs to who cloned, never to the source's owner; a clone made by nobody's
// account (an administrator's) leaves its copies unowned.
func TestACopyIsItsClonersNotTheSourceOwners(t *testing.T) {
	src := &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: "alice", Name: "train",
		Annotations: map[string]string{doradev1.AnnotationOwner: "alice"}}}
	if got := workloadCopy(src, "bob", "bob").Annotations[doradev1.AnnotationOwner]; got != "bob" {
		t.Errorf("the copy's owner is %q, want bob (who cloned)", got)
	}
	if _, ok := workloadCopy(src, "bob", "").Annotations[doradev1.AnnotationOwner]; ok {
		t.Error("an unowned clone's copy must not keep the source's owner")
	}
}
