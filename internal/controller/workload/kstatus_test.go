package workload

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/podspec"
	"github.com/dora-hpc/dora-operator/test/gitops"
)

// situation is what one reconcile of a workload finds: its pods, what blocks them, and the
// API server's answer to the pods it creates.
type situation struct {
	wl   *doradev1.Workload
	pods []*corev1.Pod
	held *creditHold
	// volumes, ports and hostNetwork are the blockers sync finds.
	volumes, ports, hostNetwork *blocker
	// refuse, when set, is what the API server says to every pod the reconcile creates.
	refuse string
}

// kstatusRevision is the revision of the test workloads' current spec: fixed, so that the
// testdata does not change with the pod template.
const kstatusRevision = "7c9d5f6b8"

// reconciledStatus is the status sync writes for s: the plan from the pods, the pods it
// creates (or the refusals), then computeStatus over it all.
func reconciledStatus(s situation) doradev1.WorkloadStatus {
	desired := s.wl.ReplicaCount()
	if s.wl.Spec.Paused || s.held != nil {
		desired = 0
	}
	p := planReplicas(s.pods, desired, kstatusRevision, s.volumes == nil && s.hostNetwork == nil)
	var created []*corev1.Pod
	var refused []refusal
	for _, index := range p.create {
		pod := replica(int(index), kstatusRevision).build()
		if s.refuse != "" {
			refused = append(refused, refusal{pod: pod.Name, message: "the API server refused it: " + s.refuse})
			continue
		}
		created = append(created, pod)
	}
	return computeStatus(statusInput{
		wl: s.wl, pods: append(append([]*corev1.Pod{}, s.pods...), created...), desired: desired, revision: kstatusRevision, plan: p,
		volumes: s.volumes, ports: s.ports, hostNetwork: s.hostNetwork, podsRefused: refusedBlocker(refused), held: s.held,
	})
}

// Every state a workload takes, as kstatus reads the status the manager writes for it, and
// the Argo CD testdata (config/argocd/.../Workload/testdata/<argocd>.yaml) made of it.
//
// kstatus has no "suspended": a paused workload, and one held because its owner's credits
// are spent, is Current once its pods are gone. Its spec is reconciled and the manager has
// nothing left to do until someone resumes it, or the credits come back; InProgress would
// keep `flux`/`kpt live apply --reconcile-timeout` waiting for days. Argo CD, which has
// Suspended, says so instead (health.lua).
func TestKStatus(t *testing.T) {
	quota := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "train-1",
		errors.New(`exceeded quota: compute, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=8, limited: requests.nvidia.com/gpu=8`)).Error()
	const queued = "0/6 nodes are available: 6 Insufficient nvidia.com/gpu. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod."
	ready := func(i int) *corev1.Pod {
		pod := replica(i, kstatusRevision).ready().scheduledOn("gpu-node-1").build()
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: podspec.ContainerName, Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		return pod
	}
	paused := func(w *doradev1.Workload) { w.Spec.Paused = true }
	onFailure := func(w *doradev1.Workload) { w.Spec.Config.RestartPolicy = doradev1.RestartOnFailure }
	held := &creditHold{user: "amedeo", reset: reset}

	cases := []struct {
		name string
		s    situation
		// behind moves metadata.generation past the status's observedGeneration: the spec
		// changed since the manager last wrote. edit is that change, if it matters.
		behind bool
		edit   func(*doradev1.Workload)
		want   status.Status
		// reason is kstatus's Reconciling or Stalled reason, when it has one.
		reason string
		// argocd names the Argo CD testdata file made of the object, if any.
		argocd string
	}{
		{name: "every replica ready", s: situation{wl: testWorkload(2), pods: []*corev1.Pod{ready(0), ready(1)}},
			want: status.CurrentStatus, argocd: "running"},
		{name: "replicas being created", s: situation{wl: testWorkload(2)},
			want: status.InProgressStatus, reason: doradev1.ReasonReplicasNotReady, argocd: "pending"},
		{name: "one replica running, one starting", s: situation{wl: testWorkload(2), pods: []*corev1.Pod{ready(0), replica(1, kstatusRevision).phase(corev1.PodPending).scheduledOn("gpu-node-2").build()}},
			want: status.InProgressStatus, reason: doradev1.ReasonReplicasNotReady},
		{name: "queued: a replica waits for GPUs", s: situation{wl: testWorkload(2), pods: []*corev1.Pod{ready(0), replica(1, kstatusRevision).unschedulable(queued).build()}},
			want: status.InProgressStatus, reason: doradev1.ReasonUnschedulable, argocd: "queued"},
		{name: "waiting for a volume's claim", s: situation{wl: testWorkload(1), volumes: &blocker{reason: doradev1.ReasonVolumesNotReady, message: "waiting for volumes: claim home for volume home does not exist yet"}},
			want: status.InProgressStatus, reason: doradev1.ReasonVolumesNotReady, argocd: "volumes-pending"},
		// Ready is True while a rollout replaces ready pods: only Reconciling tells kstatus.
		{name: "replacing ready pods of an older revision", s: situation{wl: testWorkload(2), pods: []*corev1.Pod{ready(0), replica(1, "5b6c7d8e9").ready().scheduledOn("gpu-node-1").build()}},
			want: status.InProgressStatus, reason: doradev1.ReasonReplacingPods, argocd: "rolling-update"},
		{name: "scaling down", s: situation{wl: testWorkload(1), pods: []*corev1.Pod{ready(0), ready(1)}},
			want: status.InProgressStatus, reason: doradev1.ReasonScalingDown},
		{name: "scaled to zero", s: situation{wl: testWorkload(0)}, want: status.CurrentStatus, argocd: "scaled-to-zero"},
		{name: "paused, pods still going", s: situation{wl: testWorkload(2, paused), pods: []*corev1.Pod{ready(0), ready(1)}},
			want: status.InProgressStatus, reason: doradev1.ReasonScalingDown, argocd: "pausing"},
		{name: "paused", s: situation{wl: testWorkload(2, paused)}, want: status.CurrentStatus, argocd: "paused"},
		{name: "held: the owner's credits are spent", s: situation{wl: testWorkload(2), held: held},
			want: status.CurrentStatus, argocd: "credits-exhausted"},
		{name: "held, pods still going", s: situation{wl: testWorkload(2), held: held, pods: []*corev1.Pod{ready(0), ready(1)}},
			want: status.InProgressStatus, reason: doradev1.ReasonScalingDown},
		{name: "held and paused", s: situation{wl: testWorkload(2, paused), held: held}, want: status.CurrentStatus},
		{name: "pods refused by the API server", s: situation{wl: testWorkload(2), pods: []*corev1.Pod{ready(0)}, refuse: quota},
			want: status.FailedStatus, reason: doradev1.ReasonPodsRefused, argocd: "pods-refused"},
		{name: "a NodePort refused, the replicas running", s: situation{wl: testWorkload(1), pods: []*corev1.Pod{ready(0)},
			ports: &blocker{reason: doradev1.ReasonPortUnavailable, message: "the API server refused a NodePort: service train-0: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"}},
			want: status.FailedStatus, reason: doradev1.ReasonPortUnavailable, argocd: "port-unavailable"},
		{name: "host networking not allowed", s: situation{wl: testWorkload(1), hostNetwork: checkHostNetwork(testWorkload(1, func(w *doradev1.Workload) {
			w.Spec.Network = &doradev1.NetworkSpec{Mode: doradev1.NetworkModeHost}
		}), nil)}, want: status.FailedStatus, reason: doradev1.ReasonHostNetworkNotAllowed},
		{name: "replicas failed under restartPolicy Never", s: situation{wl: testWorkload(2), pods: []*corev1.Pod{
			replica(0, kstatusRevision).phase(corev1.PodSucceeded).scheduledOn("gpu-node-1").build(),
			replica(1, kstatusRevision).phase(corev1.PodFailed).scheduledOn("gpu-node-1").build()}},
			want: status.FailedStatus, reason: doradev1.ReasonFailed, argocd: "failed"},
		{name: "a replica failed under OnFailure is restarted", s: situation{wl: testWorkload(1, onFailure), pods: []*corev1.Pod{
			replica(0, kstatusRevision).phase(corev1.PodFailed).scheduledOn("gpu-node-1").build()}},
			want: status.InProgressStatus},
		{name: "every replica ran to completion", s: situation{wl: testWorkload(2), pods: []*corev1.Pod{
			replica(0, kstatusRevision).phase(corev1.PodSucceeded).scheduledOn("gpu-node-1").build(),
			replica(1, kstatusRevision).phase(corev1.PodSucceeded).scheduledOn("gpu-node-2").build()}},
			want: status.CurrentStatus, argocd: "completed"},
		{name: "the spec changed since the status was written", s: situation{wl: testWorkload(2), pods: []*corev1.Pod{ready(0), ready(1)}},
			behind: true, want: status.InProgressStatus, reason: "LatestGenerationNotObserved", argocd: "generation-behind"},
		{name: "running, then paused before the manager saw it", s: situation{wl: testWorkload(2), pods: []*corev1.Pod{ready(0), ready(1)}},
			behind: true, edit: paused, want: status.InProgressStatus, reason: "LatestGenerationNotObserved", argocd: "paused-not-observed"},
		{name: "paused, then resumed before the manager saw it", s: situation{wl: testWorkload(2, paused)},
			behind: true, edit: func(w *doradev1.Workload) { w.Spec.Paused = false }, want: status.InProgressStatus, reason: "LatestGenerationNotObserved", argocd: "resumed-not-observed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wl := tc.s.wl.DeepCopy()
			wl.Status = reconciledStatus(tc.s)
			// A second reconcile over the same world writes the same status: the verdict is
			// that of a settled status, not of a first write.
			wl.Status = reconciledStatus(situation{wl: wl, pods: tc.s.pods, held: tc.s.held, volumes: tc.s.volumes, ports: tc.s.ports, hostNetwork: tc.s.hostNetwork, refuse: tc.s.refuse})
			if tc.behind {
				wl.Generation++
			}
			if tc.edit != nil {
				tc.edit(wl)
			}
			wl.Annotations = map[string]string{doradev1.AnnotationOwner: "amedeo"}
			res, err := gitops.KStatus(wl)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want {
				t.Errorf("kstatus = %s (%s), want %s; conditions %+v", res.Status, res.Message, tc.want, wl.Status.Conditions)
			}
			if tc.reason != "" && (len(res.Conditions) == 0 || res.Conditions[0].Reason != tc.reason) {
				t.Errorf("kstatus conditions = %+v, want reason %s", res.Conditions, tc.reason)
			}
			if tc.argocd != "" {
				gitops.Golden(t, wl, tc.argocd, "internal/controller/workload/kstatus_test.go ("+tc.name+")")
			}
		})
	}
}

// The conditions kstatus reads are set only where they hold: a settled workload carries
// neither, and the two never hold together.
func TestKStatusConditionsAreExclusive(t *testing.T) {
	wl := testWorkload(2)
	wl.Status = reconciledStatus(situation{wl: wl, refuse: "forbidden"})
	conds := func() []metav1.Condition { return wl.Status.Conditions }
	if !meta.IsStatusConditionTrue(conds(), doradev1.ConditionStalled) || meta.FindStatusCondition(conds(), doradev1.ConditionReconciling) != nil {
		t.Fatalf("refused: conditions %+v, want Stalled and no Reconciling", wl.Status.Conditions)
	}
	wl.Status = reconciledStatus(situation{wl: wl})
	if meta.FindStatusCondition(conds(), doradev1.ConditionStalled) != nil || !meta.IsStatusConditionTrue(conds(), doradev1.ConditionReconciling) {
		t.Fatalf("admitted: conditions %+v, want Reconciling and no Stalled", wl.Status.Conditions)
	}
	pods := []*corev1.Pod{replica(0, kstatusRevision).ready().build(), replica(1, kstatusRevision).ready().build()}
	wl.Status = reconciledStatus(situation{wl: wl, pods: pods})
	if meta.FindStatusCondition(conds(), doradev1.ConditionStalled) != nil || meta.FindStatusCondition(conds(), doradev1.ConditionReconciling) != nil {
		t.Fatalf("running: conditions %+v, want neither Reconciling nor Stalled", wl.Status.Conditions)
	}
	if n := len(wl.Status.Conditions); n > 16 {
		t.Errorf("%d conditions, more than the CRD's 16", n)
	}
}
