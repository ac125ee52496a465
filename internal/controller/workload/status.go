package workload

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// blocker is something that keeps pods from being created, with what to tell the user.
type blocker struct {
	reason, message string
}

// statusInput is what computeStatus needs: the workload, its pods as they are after this
// reconcile's actions were decided, what the plan does, and what blocks it.
type statusInput struct {
	wl       *doradev1.Workload
	pods     []*corev1.Pod
	desired  int32
	revision string
	plan     plan
	// volumes and ports are nil when nothing blocks them; podsRefused is nil when the API
	// server refused none of this reconcile's pods.
	volumes, ports, hostNetwork, podsRefused *blocker
	// noProduct names the requested GPU products no node has, if none has any.
	noProduct string
	// held is the credit hold on the workload, nil when its owner has credits left.
	held *creditHold
}

// computeStatus derives the whole status. Conditions keep their transition times when their
// status does not change (meta.SetStatusCondition), so a reconcile that finds nothing new
// yields an identical status and no write.
func computeStatus(in statusInput) doradev1.WorkloadStatus {
	st := *in.wl.Status.DeepCopy()
	st.ObservedGeneration = in.wl.Generation
	st.CurrentRevision = in.revision
	st.Containers = nil
	var ready, existing, succeeded, failed int32
	var unschedulable []string
	for _, pod := range sortedByIndex(in.pods) {
		index, _ := replicaIndex(pod)
		if index >= in.desired || pod.DeletionTimestamp != nil {
			continue
		}
		existing++
		cs := containerStatus(pod, index)
		st.Containers = append(st.Containers, cs)
		switch {
		case podReady(pod):
			ready++
		case pod.Status.Phase == corev1.PodSucceeded:
			succeeded++
		case pod.Status.Phase == corev1.PodFailed:
			failed++
		}
		if msg, ok := unschedulableMessage(pod); ok {
			unschedulable = append(unschedulable, msg)
		}
	}
	st.Replicas = existing
	st.ReadyReplicas = ready
	st.Ready = fmt.Sprintf("%d/%d", ready, in.desired)

	gen := in.wl.Generation
	set := func(t string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen})
	}

	paused := in.wl.Spec.Paused
	if paused {
		set(doradev1.WorkloadPaused, metav1.ConditionTrue, doradev1.ReasonPaused, "spec.paused is true: the workload's pods are removed; set it to false to resume")
	} else {
		set(doradev1.WorkloadPaused, metav1.ConditionFalse, doradev1.ReasonResumed, "the workload is not paused")
	}

	setCreditCondition(&st, in.held, gen)

	for _, b := range []struct {
		condType string
		blk      *blocker
		okReason string
	}{
		{doradev1.WorkloadVolumesReady, in.volumes, "VolumesBound"},
		{doradev1.WorkloadPortsReady, in.ports, "PortsAllocated"},
		{doradev1.WorkloadPodsAdmitted, in.podsRefused, doradev1.ReasonPodsAccepted},
	} {
		if b.blk != nil {
			set(b.condType, metav1.ConditionFalse, b.blk.reason, b.blk.message)
		} else {
			set(b.condType, metav1.ConditionTrue, b.okReason, "")
		}
	}

	switch {
	case len(unschedulable) > 0:
		msg := unschedulable[0]
		if in.noProduct != "" {
			msg = fmt.Sprintf("no node has product %s; the scheduler says: %s", in.noProduct, msg)
		}
		set(doradev1.WorkloadQueued, metav1.ConditionTrue, doradev1.ReasonUnschedulable,
			fmt.Sprintf("%d of %d replicas wait for hardware: %s", len(unschedulable), in.desired, msg))
	default:
		set(doradev1.WorkloadQueued, metav1.ConditionFalse, doradev1.ReasonScheduled, "no replica waits for hardware")
	}

	switch p := in.plan; {
	case len(p.replace) > 0:
		set(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonReplacingPods, fmt.Sprintf("replacing %d pods with revision %s", len(p.replace), in.revision))
	case len(p.scaleDown) > 0:
		set(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonScalingDown, fmt.Sprintf("removing %d pods", len(p.scaleDown)))
	case len(p.create)+len(p.recreate) > 0 || existing < in.desired || (ready+succeeded+failed < in.desired && !in.wl.Spec.Paused && in.held == nil):
		set(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonCreatingPods, fmt.Sprintf("%d of %d replicas exist, %d ready", existing, in.desired, ready))
	default:
		set(doradev1.WorkloadProgressing, metav1.ConditionFalse, doradev1.ReasonSettled, "every replica exists at the current revision")
	}

	// Ready and the phase say the most important thing first.
	blocked := firstBlocker(in.hostNetwork, in.volumes, in.ports, in.podsRefused)
	restartNever := in.wl.Spec.Config == nil || in.wl.Spec.Config.RestartPolicy == "" || in.wl.Spec.Config.RestartPolicy == doradev1.RestartNever
	switch {
	// A paused or held workload, and one that ran to completion, is Ready: it is as its spec
	// and its owner's credits say it should be, with nothing left to do, as one scaled to
	// zero is. kstatus, which has no "suspended", then reads it as Current (Reconciling
	// holds while its pods are still being removed); the phase, Paused and CreditsExhausted
	// say why it has no pods.
	case paused:
		st.Phase = doradev1.WorkloadPhasePaused
		set(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonPaused, "the workload is paused: spec.paused is true")
	case in.held != nil:
		st.Phase = doradev1.WorkloadPhasePaused
		set(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.CreditsExhausted, "the workload is held: the owner's weekly credits are spent; see the CreditsExhausted condition")
	case blocked != nil && existing < in.desired:
		st.Phase = doradev1.WorkloadPhasePending
		set(doradev1.ConditionReady, metav1.ConditionFalse, blocked.reason, blocked.message)
	case in.desired == 0:
		st.Phase = doradev1.WorkloadPhaseRunning
		set(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonScaledToZero, "replica.count is 0")
	case restartNever && succeeded == in.desired:
		st.Phase = doradev1.WorkloadPhaseCompleted
		set(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonCompleted, "every replica ran to completion")
	case restartNever && failed > 0 && ready == 0 && succeeded+failed == in.desired:
		st.Phase = doradev1.WorkloadPhaseFailed
		set(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonFailed, fmt.Sprintf("%d of %d replicas failed", failed, in.desired))
	case len(unschedulable) > 0:
		st.Phase = doradev1.WorkloadPhaseQueued
		set(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonUnschedulable, meta.FindStatusCondition(st.Conditions, doradev1.WorkloadQueued).Message)
	case ready == in.desired:
		st.Phase = doradev1.WorkloadPhaseRunning
		set(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAllReplicasReady, fmt.Sprintf("%d of %d replicas are ready", ready, in.desired))
	default:
		st.Phase = doradev1.WorkloadPhasePending
		if ready > 0 {
			st.Phase = doradev1.WorkloadPhaseRunning
		}
		set(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonReplicasNotReady, fmt.Sprintf("%d of %d replicas are ready", ready, in.desired))
	}
	setKStatus(&st, in, gen)
	return st
}

// setKStatus sets kstatus's Stalled where the workload cannot get to its spec without
// someone changing something (a pod or a NodePort the API server refuses, host networking
// the workspace does not allow, replicas that failed for good), and otherwise Reconciling
// while Progressing is True, so that a rollout or a scale-down is InProgress even while
// Ready is True. Reconciling carries Ready's words when Ready is False: they say the most.
func setKStatus(st *doradev1.WorkloadStatus, in statusInput, gen int64) {
	ready := meta.FindStatusCondition(st.Conditions, doradev1.ConditionReady)
	var stalled *blocker
	if !in.wl.Spec.Paused && in.held == nil {
		stalled = firstBlocker(in.hostNetwork, in.ports, in.podsRefused)
		if stalled == nil && st.Phase == doradev1.WorkloadPhaseFailed {
			stalled = &blocker{reason: ready.Reason, message: ready.Message}
		}
	}
	progressing := meta.FindStatusCondition(st.Conditions, doradev1.WorkloadProgressing)
	switch {
	case stalled != nil:
		doradev1.SetStalled(&st.Conditions, gen, stalled.reason, stalled.message)
	case progressing.Status == metav1.ConditionTrue && ready.Status != metav1.ConditionTrue:
		doradev1.SetReconciling(&st.Conditions, gen, ready.Reason, ready.Message)
	case progressing.Status == metav1.ConditionTrue:
		doradev1.SetReconciling(&st.Conditions, gen, progressing.Reason, progressing.Message)
	default:
		doradev1.ClearKStatus(&st.Conditions)
	}
}

func firstBlocker(bs ...*blocker) *blocker {
	for _, b := range bs {
		if b != nil {
			return b
		}
	}
	return nil
}

func sortedByIndex(pods []*corev1.Pod) []*corev1.Pod {
	out := append([]*corev1.Pod(nil), pods...)
	sort.SliceStable(out, func(i, j int) bool {
		a, _ := replicaIndex(out[i])
		b, _ := replicaIndex(out[j])
		return a < b
	})
	return out
}

// containerStatus is Dora's view of one replica.
func containerStatus(pod *corev1.Pod, index int32) doradev1.ContainerStatus {
	cs := doradev1.ContainerStatus{
		Replica:  index,
		Name:     pod.Name,
		Node:     pod.Spec.NodeName,
		Revision: pod.Labels[podspec.LabelRevision],
		State:    doradev1.ContainerWaiting,
		Reason:   string(pod.Status.Phase),
	}
	for _, c := range pod.Status.ContainerStatuses {
		if c.Name != podspec.ContainerName {
			continue
		}
		switch {
		case c.State.Running != nil:
			cs.State, cs.Reason = doradev1.ContainerRunning, ""
		case c.State.Terminated != nil:
			cs.State, cs.Reason, cs.Message = doradev1.ContainerTerminated, c.State.Terminated.Reason, c.State.Terminated.Message
		case c.State.Waiting != nil:
			cs.Reason, cs.Message = c.State.Waiting.Reason, c.State.Waiting.Message
		}
	}
	if msg, ok := unschedulableMessage(pod); ok {
		cs.Reason, cs.Message = doradev1.ReasonUnschedulable, msg
	}
	if pod.Status.Reason != "" && cs.State != doradev1.ContainerRunning {
		cs.Reason, cs.Message = pod.Status.Reason, pod.Status.Message
	}
	cs.Message = truncate(cs.Message, 1024)
	return cs
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// unschedulableMessage is the scheduler's own explanation of why a pod waits.
func unschedulableMessage(pod *corev1.Pod) (string, bool) {
	if pod.Spec.NodeName != "" {
		return "", false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return strings.TrimSpace(c.Message), true
		}
	}
	return "", false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// equalStatus compares two statuses the way the API server would store them.
func equalStatus(a, b doradev1.WorkloadStatus) bool { return apiequality.Semantic.DeepEqual(a, b) }

// statusDelay is how long a workload whose pods are on their way may show a status behind
// them. Counting replicas up one by one would otherwise cost a write per pod event, and a
// burst of workloads whose pods start slowly (large images, a busy cluster) a write every
// few seconds each; what users act on (a condition, the phase) is written at once anyway.
const statusDelay = 10 * time.Second

// firstStatusDelay is the longest a new workload's first status waits for its pods to
// arrive (run, finish or wait for hardware). Pods that start as usual run well within it,
// and so do those of a burst (a sweep of a thousand workloads waits for the scheduler to
// bind them all, tens of seconds for the last), so a workload coming up costs one status
// write; one that starts slower (a large image pulled) is shown as it is by then. The pods
// themselves are there to see meanwhile (kubectl dora get containers), and what blocks
// them (refused, no volume, no credits, no hardware) is written at once.
const firstStatusDelay = 30 * time.Second

// statusWriteDecision says whether to write next now, or in how long. A new workload's
// first status waits until its pods are out of transit (running, finished, waiting for
// hardware), at most firstStatusDelay after the manager first held it back, unless it tells
// of something that blocks them (blocked), which is written at once. After that, a change
// users act on (a condition's status or reason, the phase but for Pending<->Running, the
// generation or revision) is written at once; one that only moves counts and container
// states, while pods are on their way, waits until statusDelay after the last write.
func statusWriteDecision(before, next doradev1.WorkloadStatus, lastWrite time.Time, inTransit bool, now time.Time) (bool, time.Duration) {
	if equalStatus(before, next) {
		return false, 0
	}
	delay := statusDelay
	if before.ObservedGeneration == 0 {
		if blocked(next) {
			return true, 0
		}
		delay = firstStatusDelay
	} else if significantChange(before, next) {
		return true, 0
	}
	if !inTransit {
		return true, 0
	}
	if elapsed := now.Sub(lastWrite); elapsed < delay {
		return false, delay - elapsed
	}
	return true, 0
}

// blocked reports a status that says something keeps the workload's pods from running:
// pods refused, volumes or ports missing, a credit hold, replicas waiting for hardware, or
// anything that stalls it.
func blocked(st doradev1.WorkloadStatus) bool {
	for _, t := range []string{doradev1.WorkloadVolumesReady, doradev1.WorkloadPortsReady, doradev1.WorkloadPodsAdmitted} {
		if meta.IsStatusConditionFalse(st.Conditions, t) {
			return true
		}
	}
	for _, t := range []string{doradev1.CreditsExhausted, doradev1.WorkloadQueued, doradev1.ConditionStalled} {
		if meta.IsStatusConditionTrue(st.Conditions, t) {
			return true
		}
	}
	return false
}

func significantChange(a, b doradev1.WorkloadStatus) bool {
	progress := map[doradev1.WorkloadPhase]bool{doradev1.WorkloadPhasePending: true, doradev1.WorkloadPhaseRunning: true}
	// A phase change is significant unless it stays between Pending and Running.
	phaseMoved := a.Phase != b.Phase && (!progress[a.Phase] || !progress[b.Phase])
	if a.ObservedGeneration != b.ObservedGeneration || a.CurrentRevision != b.CurrentRevision ||
		phaseMoved || len(a.Conditions) != len(b.Conditions) {
		return true
	}
	for _, c := range b.Conditions {
		old := meta.FindStatusCondition(a.Conditions, c.Type)
		if old == nil || old.Status != c.Status || old.Reason != c.Reason {
			return true
		}
	}
	return false
}

// inTransit reports pods on their way to running: being created or replaced, or existing
// but neither ready, finished, waiting for hardware nor going away.
func inTransit(in statusInput) bool {
	if len(in.plan.create)+len(in.plan.replace)+len(in.plan.recreate) > 0 {
		return true
	}
	for _, pod := range in.pods {
		if index, _ := replicaIndex(pod); index >= in.desired || pod.DeletionTimestamp != nil {
			continue
		}
		if _, waiting := unschedulableMessage(pod); waiting || podReady(pod) || finished(pod) || vanished(pod) {
			continue
		}
		return true
	}
	return false
}
