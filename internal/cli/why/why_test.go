package why

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// DORA_UPDATE_GOLDEN=1 go test ./internal/cli/why/ rewrites testdata/*.golden.
var update = flag.Bool("update", os.Getenv("DORA_UPDATE_GOLDEN") != "", "rewrite the golden files")

const (
	ns      = "amedeo-setti"
	owner   = "amedeo.setti"
	zone    = "dc-rov-01"
	v100    = "Tesla V100-SXM2-16GB"
	rtx     = "Quadro RTX 6000"
	h100    = "NVIDIA H100 80GB HBM3"
	gpuRes  = corev1.ResourceName("nvidia.com/gpu")
	waitMsg = "0/6 nodes are available: 2 Insufficient nvidia.com/gpu, 4 node(s) didn't match Pod's node affinity/selector. preemption: 0/6 nodes are available: 2 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling."
)

var now = time.Date(2025, 1, 8, 10, 30, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

// The zone: two V100 nodes whose agents report (2 and 3 GPUs free), two RTX 6000 nodes
// known only to Kubernetes (one with 4 free, one full), an H100 node whose 8 GPUs are all
// held, and a CPU node.
func fleet() ([]doradev1.Node, []corev1.Node, []corev1.Pod) {
	var nodes []doradev1.Node
	var kube []corev1.Node
	var pods []corev1.Pod
	reported := func(name, product string, n int, held map[int]string) {
		dn := doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
		for i := range n {
			dn.Status.GPUs = append(dn.Status.GPUs, doradev1.GPUInfo{Index: int32(i), UUID: fmt.Sprintf("GPU-%s-%d", name, i), Product: product, MemoryTotalMiB: 16384, Healthy: true, Pod: held[i]})
		}
		nodes = append(nodes, dn)
		kube = append(kube, kubeNode(name, strings.ReplaceAll(product, " ", "-"), int64(n), 40))
	}
	others := func(pod string, from, to int) map[int]string {
		m := map[int]string{}
		for i := from; i < to; i++ {
			m[i] = pod
		}
		return m
	}
	reported("v100-0", v100, 8, others("team-b/sweep-0", 0, 6))
	reported("v100-1", v100, 8, others("team-b/sweep-1", 0, 5))
	reported("h100-0", h100, 8, others("team-d/llm-0", 0, 8))
	kube = append(kube, kubeNode("rtx6000-0", "Quadro-RTX-6000", 4, 32), kubeNode("rtx6000-1", "Quadro-RTX-6000", 4, 32), kubeNode("cpu-0", "", 0, 64))
	nodes = append(nodes, doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cpu-0"}})
	pods = append(pods, otherPod("team-c", "render-1", "rtx6000-1", 4))
	return nodes, kube, pods
}

func kubeNode(name, label string, gpus, cpus int64) corev1.Node {
	n := corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: *resource.NewQuantity(cpus, resource.DecimalSI)},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
	if gpus > 0 {
		n.Labels["nvidia.com/gpu.product"] = label
		n.Status.Allocatable[gpuRes] = *resource.NewQuantity(gpus, resource.DecimalSI)
	}
	return n
}

func otherPod(namespace, name, node string, gpus int64) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "workload", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{gpuRes: *resource.NewQuantity(gpus, resource.DecimalSI)},
		}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

func cond(t string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, LastTransitionTime: ago(5 * time.Minute), ObservedGeneration: 1}
}

// settled are the conditions of a workload with nothing in its way, as the manager writes
// them; each case replaces some.
func settled(desired int32) []metav1.Condition {
	return []metav1.Condition{
		cond(doradev1.WorkloadPaused, metav1.ConditionFalse, doradev1.ReasonResumed, "the workload is not paused"),
		cond(doradev1.WorkloadVolumesReady, metav1.ConditionTrue, "VolumesBound", ""),
		cond(doradev1.WorkloadPortsReady, metav1.ConditionTrue, "PortsAllocated", ""),
		cond(doradev1.WorkloadPodsAdmitted, metav1.ConditionTrue, doradev1.ReasonPodsAccepted, ""),
		cond(doradev1.WorkloadQueued, metav1.ConditionFalse, doradev1.ReasonScheduled, "no replica waits for hardware"),
		cond(doradev1.WorkloadProgressing, metav1.ConditionFalse, doradev1.ReasonSettled, "every replica exists at the current revision"),
		cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAllReplicasReady, fmt.Sprintf("%d of %d replicas are ready", desired, desired)),
	}
}

func set(conds []metav1.Condition, c ...metav1.Condition) []metav1.Condition {
	out := append([]metav1.Condition(nil), conds...)
	for _, n := range c {
		replaced := false
		for i := range out {
			if out[i].Type == n.Type {
				out[i], replaced = n, true
			}
		}
		if !replaced {
			out = append(out, n)
		}
	}
	return out
}

// trainV100 is the seed's train.v100: 2 replicas of 4 V100s each.
func trainV100(replicas int32, gpus int, products ...string) *doradev1.Workload {
	if len(products) == 0 {
		products = []string{v100}
	}
	product := doradev1.NewString(products[0])
	if len(products) > 1 {
		product = doradev1.NewList(products...)
	}
	return &doradev1.Workload{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "train.v100", Generation: 1, Annotations: map[string]string{doradev1.AnnotationOwner: owner}},
		Spec: doradev1.WorkloadSpec{
			Replica:   &doradev1.ReplicaSpec{Count: ptr.To(replicas)},
			Selectors: doradev1.Selectors{GPU: &doradev1.GPUSelector{ProductName: product, Count: ptr.To(intstr.FromInt32(int32(gpus)))}},
			Image:     doradev1.ImageSpec{Image: "nvcr.io/nvidia/pytorch:24.05-py3"},
		},
		Status: doradev1.WorkloadStatus{ObservedGeneration: 1, Phase: doradev1.WorkloadPhaseRunning, Replicas: replicas, ReadyReplicas: replicas,
			Ready: fmt.Sprintf("%d/%d", replicas, replicas), Conditions: settled(replicas)},
	}
}

func pod(wl *doradev1.Workload, index int32, node string) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: wl.Namespace, Name: fmt.Sprintf("%s-%d", wl.Name, index), CreationTimestamp: ago(6 * time.Minute),
			Labels: map[string]string{doradev1.LabelWorkload: wl.Name, doradev1.LabelReplica: fmt.Sprint(index)}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "workload", Image: wl.Spec.Image.Image}}},
	}
	if n := gpuCount(wl); n > 0 {
		p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{gpuRes: *resource.NewQuantity(n, resource.DecimalSI)}
	}
	return p
}

func running(p corev1.Pod) corev1.Pod {
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning,
		Conditions:        []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "workload", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(5 * time.Minute)}}}}}
	return p
}

func unschedulable(p corev1.Pod, msg string) corev1.Pod {
	p.Spec.NodeName = ""
	p.Status = corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg, LastTransitionTime: ago(5 * time.Minute)}}}
	return p
}

func waiting(p corev1.Pod, reason, msg string, restarts int32) corev1.Pod {
	p.Status = corev1.PodStatus{Phase: corev1.PodPending,
		Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionFalse}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "workload", RestartCount: restarts,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}}
	if restarts > 0 {
		p.Status.Phase = corev1.PodRunning
		p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 127, Reason: "Error"}
	}
	return p
}

func event(kind, name, typ, reason, note string, age time.Duration, count int32) eventsv1.Event {
	ev := eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s.%x", name, age)},
		EventTime:  metav1.NewMicroTime(now.Add(-age)),
		Regarding:  corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name},
		Type:       typ, Reason: reason, Note: note,
	}
	if count > 1 {
		ev.Series = &eventsv1.EventSeries{Count: count, LastObservedTime: metav1.NewMicroTime(now.Add(-age))}
	}
	return ev
}

func userCredit(exhausted bool) *doradev1.UserCredit {
	reset := metav1.NewTime(time.Date(2025, 1, 12, 0, 0, 0, 0, time.UTC))
	uc := &doradev1.UserCredit{
		ObjectMeta: metav1.ObjectMeta{Name: owner},
		Spec:       doradev1.UserCreditSpec{User: owner},
		Status: doradev1.UserCreditStatus{Zones: []doradev1.ZoneCredits{{
			Zone: zone, Weekly: "500", Used: "120", Remaining: "380", AsOf: ptr.To(ago(time.Hour)), BurnRatePerHour: "20",
			WeekStart: ptr.To(metav1.NewTime(time.Date(2025, 1, 5, 0, 0, 0, 0, time.UTC))), NextReset: &reset,
		}}},
	}
	if exhausted {
		z := &uc.Status.Zones[0]
		z.Used, z.Remaining, z.Exhausted, z.BurnRatePerHour = "500", "0", true, "0"
		uc.Status.Conditions = []metav1.Condition{cond(doradev1.CreditsExhausted, metav1.ConditionTrue, doradev1.ReasonBudgetSpent,
			"The weekly budget of 500 credits is spent: workloads are held until the reset at 2025-01-12T00:00:00Z, or until an administrator raises spec.credits")}
	}
	return uc
}

type goldenCase struct {
	name  string
	in    func() Input
	kinds []Kind
	ok    bool
}

func base(wl *doradev1.Workload, pods ...corev1.Pod) Input {
	nodes, kube, others := fleet()
	return Input{Workload: wl, Pods: pods, Nodes: nodes, KubeNodes: kube, NodePods: append(others, pods...), UserCredit: userCredit(false), Zone: zone, Now: now}
}

var cases = []goldenCase{
	{name: "running", kinds: []Kind{Running}, ok: true, in: func() Input {
		wl := trainV100(2, 4)
		return base(wl, running(pod(wl, 0, "v100-0")), running(pod(wl, 1, "v100-1")))
	}},
	{name: "paused", kinds: []Kind{Paused}, in: func() Input {
		wl := trainV100(2, 4)
		wl.Spec.Paused = true
		wl.Status.Phase, wl.Status.Replicas, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhasePaused, 0, 0, "0/0"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadPaused, metav1.ConditionTrue, doradev1.ReasonPaused, "spec.paused is true: the workload's pods are removed; set it to false to resume"),
			cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonPaused, "the workload is paused: spec.paused is true"))
		in := base(wl)
		in.Events = []eventsv1.Event{event("Workload", wl.Name, corev1.EventTypeNormal, doradev1.EventPaused, "spec.paused: removing 2 pods", 5*time.Minute, 1)}
		return in
	}},
	{name: "credits-exhausted", kinds: []Kind{CreditsExhausted}, in: func() Input {
		wl := trainV100(2, 4)
		wl.Status.Phase, wl.Status.Replicas, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhasePaused, 0, 0, "0/0"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.CreditsExhausted, metav1.ConditionTrue, doradev1.ReasonBudgetSpent, "amedeo.setti has spent the weekly budget in this zone: the workload's pods are removed until the reset at 2025-01-12T00:00:00Z, or until an administrator raises the budget; resuming does not lift this"),
			cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.CreditsExhausted, "the workload is held: the owner's weekly credits are spent; see the CreditsExhausted condition"))
		in := base(wl)
		in.UserCredit = userCredit(true)
		in.Events = []eventsv1.Event{event("Workload", wl.Name, corev1.EventTypeWarning, "CreditsExhausted", "amedeo.setti's weekly credits are spent: holding the workload until 2025-01-12T00:00:00Z", 5*time.Minute, 1)}
		return in
	}},
	{name: "budget-required", kinds: []Kind{CreditsExhausted}, in: func() Input {
		wl := trainV100(1, 1)
		wl.Status.Phase, wl.Status.Replicas, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhasePaused, 0, 0, "0/0"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.CreditsExhausted, metav1.ConditionTrue, doradev1.ReasonBudgetSpent, "amedeo.setti has spent the weekly budget in this zone: the workload's pods are removed until the reset at 2025-01-12T00:00:00Z, or until an administrator raises the budget; resuming does not lift this"),
			cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.CreditsExhausted, "the workload is held: the owner's weekly credits are spent; see the CreditsExhausted condition"))
		in := base(wl)
		uc := userCredit(true)
		uc.Status.Zones[0].Weekly, uc.Status.Zones[0].Used = "0", "0"
		uc.Status.Conditions = []metav1.Condition{cond(doradev1.CreditsExhausted, metav1.ConditionTrue, doradev1.ReasonBudgetRequired,
			"No weekly budget in this zone, and this zone's manager requires one (--credits-require-budget): workloads are held until an administrator adds this zone to the user's spec.credits")}
		in.UserCredit = uc
		return in
	}},
	{name: "would-exceed-budget", kinds: []Kind{WouldExceedBudget}, in: func() Input {
		wl := trainV100(2, 4)
		wl.Spec.Config = &doradev1.ContainerConfig{MaxRunTime: "1d"}
		wl.Status.Phase, wl.Status.Replicas, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhasePaused, 0, 0, "0/0"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.CreditsExhausted, metav1.ConditionTrue, doradev1.ReasonWouldExceedBudget, "safe mode: 8 GPUs at up to 2.50 credits per GPU-hour for 24h0m0s may cost 480.00 credits, more than the 380.00 amedeo.setti has left this week: the workload starts when that is enough (the reset at 2025-01-12T00:00:00Z, or a larger budget), or with a shorter spec.config.maxRunTime or fewer GPUs"),
			cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.CreditsExhausted, "the workload is held: the owner's weekly credits are spent; see the CreditsExhausted condition"))
		return base(wl)
	}},
	{name: "no-product", kinds: []Kind{NoProduct}, in: func() Input {
		wl := trainV100(2, 1, "Tesla T4")
		msg := "0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector. preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling."
		queued := "2 of 2 replicas wait for hardware: no node has product Tesla T4; the scheduler says: " + msg
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhaseQueued, 0, "0/2"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadQueued, metav1.ConditionTrue, doradev1.ReasonUnschedulable, queued),
			cond(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonCreatingPods, "2 of 2 replicas exist, 0 ready"),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonUnschedulable, queued),
			cond(doradev1.ConditionReconciling, metav1.ConditionTrue, doradev1.ReasonUnschedulable, queued))
		in := base(wl, unschedulable(pod(wl, 0, ""), msg), unschedulable(pod(wl, 1, ""), msg))
		in.Events = []eventsv1.Event{
			event("Workload", wl.Name, corev1.EventTypeNormal, doradev1.EventScaleUp, "created 2 pods", 6*time.Minute, 1),
			event("Pod", wl.Name+"-0", corev1.EventTypeWarning, "FailedScheduling", msg, 30*time.Second, 7),
			event("Pod", wl.Name+"-1", corev1.EventTypeWarning, "FailedScheduling", msg, 31*time.Second, 7),
		}
		return in
	}},
	{name: "gpus-busy", kinds: []Kind{GPUsBusy}, in: func() Input {
		wl := trainV100(2, 4)
		queued := "2 of 2 replicas wait for hardware: " + waitMsg
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhaseQueued, 0, "0/2"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadQueued, metav1.ConditionTrue, doradev1.ReasonUnschedulable, queued),
			cond(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonCreatingPods, "2 of 2 replicas exist, 0 ready"),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonUnschedulable, queued),
			cond(doradev1.ConditionReconciling, metav1.ConditionTrue, doradev1.ReasonUnschedulable, queued))
		in := base(wl, unschedulable(pod(wl, 0, ""), waitMsg), unschedulable(pod(wl, 1, ""), waitMsg))
		in.Events = []eventsv1.Event{event("Pod", wl.Name+"-0", corev1.EventTypeWarning, "FailedScheduling", waitMsg, 20*time.Second, 12)}
		return in
	}},
	{name: "gpus-busy-any-model", kinds: []Kind{GPUsBusy}, in: func() Input {
		// All of them: no node has 5 free, and the RTX nodes, known only to Kubernetes,
		// are counted from allocatable minus the requests of their pods.
		wl := trainV100(1, 5, doradev1.All)
		msg := "0/6 nodes are available: 5 Insufficient nvidia.com/gpu, 1 node(s) didn't match Pod's node affinity/selector."
		queued := "1 of 1 replicas wait for hardware: " + msg
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhaseQueued, 0, "0/1"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadQueued, metav1.ConditionTrue, doradev1.ReasonUnschedulable, queued),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonUnschedulable, queued))
		return base(wl, unschedulable(pod(wl, 0, ""), msg))
	}},
	{name: "too-many-gpus", kinds: []Kind{TooManyGPUs}, in: func() Input {
		wl := trainV100(1, 16, v100, h100)
		msg := "0/6 nodes are available: 3 Insufficient nvidia.com/gpu, 3 node(s) didn't match Pod's node affinity/selector."
		queued := "1 of 1 replicas wait for hardware: " + msg
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhaseQueued, 0, "0/1"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadQueued, metav1.ConditionTrue, doradev1.ReasonUnschedulable, queued),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonUnschedulable, queued))
		return base(wl, unschedulable(pod(wl, 0, ""), msg))
	}},
	{name: "unschedulable-cpu", kinds: []Kind{Unschedulable}, in: func() Input {
		// 2 V100s fit on v100-1, but 64 cores do not.
		wl := trainV100(1, 2)
		wl.Spec.Selectors.CPU = &doradev1.CPUSelector{Count: ptr.To(intstr.FromInt32(64))}
		msg := "0/6 nodes are available: 2 Insufficient cpu, 4 node(s) didn't match Pod's node affinity/selector."
		queued := "1 of 1 replicas wait for hardware: " + msg
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhaseQueued, 0, "0/1"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadQueued, metav1.ConditionTrue, doradev1.ReasonUnschedulable, queued),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonUnschedulable, queued))
		return base(wl, unschedulable(pod(wl, 0, ""), msg))
	}},
	{name: "node-not-found", kinds: []Kind{NodeNotFound}, in: func() Input {
		wl := trainV100(1, 1)
		wl.Spec.Selectors.Node = &doradev1.NodeSelector{Name: "emcprom09"}
		msg := "0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector."
		queued := "1 of 1 replicas wait for hardware: " + msg
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhaseQueued, 0, "0/1"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadQueued, metav1.ConditionTrue, doradev1.ReasonUnschedulable, queued),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonUnschedulable, queued))
		return base(wl, unschedulable(pod(wl, 0, ""), msg))
	}},
	{name: "volumes-not-ready", kinds: []Kind{VolumesNotReady}, in: func() Input {
		wl := trainV100(1, 1)
		wl.Spec.Volumes = []doradev1.WorkloadVolume{{Name: "home", Target: "/home"}, {Name: "imagenet", Workspace: "datasets", Target: "/imagenet"}}
		msg := "waiting for volumes: claim vol-home for volume home does not exist yet; claim vol-datasets-imagenet for volume imagenet of namespace datasets was requested"
		wl.Status.Phase, wl.Status.Replicas, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhasePending, 0, 0, "0/1"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadVolumesReady, metav1.ConditionFalse, doradev1.ReasonVolumesNotReady, msg),
			cond(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonCreatingPods, "0 of 1 replicas exist, 0 ready"),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonVolumesNotReady, msg),
			cond(doradev1.ConditionReconciling, metav1.ConditionTrue, doradev1.ReasonVolumesNotReady, msg))
		return base(wl)
	}},
	{name: "port-unavailable", kinds: []Kind{PortUnavailable}, in: func() Input {
		wl := trainV100(1, 1)
		wl.Spec.Network = &doradev1.NetworkSpec{Ports: []doradev1.PortSpec{{Name: "first", Port: 8008, NodePort: 25000}}}
		msg := `the API server refused a NodePort: Service "train-v100-0-first" is invalid: spec.ports[0].nodePort: Invalid value: 25000: provided port is not in the valid range. The range of valid ports is 30000-32767`
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadPortsReady, metav1.ConditionFalse, doradev1.ReasonPortUnavailable, msg),
			cond(doradev1.ConditionStalled, metav1.ConditionTrue, doradev1.ReasonPortUnavailable, msg))
		return base(wl, running(pod(wl, 0, "v100-1")))
	}},
	{name: "pods-refused", kinds: []Kind{PodsRefused}, in: func() Input {
		wl := trainV100(2, 1)
		msg := `pod train.v100-0 and 1 more could not be created: pods "train.v100-0" is forbidden: exceeded quota: gpus, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=4, limited: requests.nvidia.com/gpu=4; fix what it names (the spec, a ResourceQuota, the namespace's Pod Security level, an admission policy) and the manager creates the pods on its next try, at most 5 minutes later`
		wl.Status.Phase, wl.Status.Replicas, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhasePending, 0, 0, "0/2"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadPodsAdmitted, metav1.ConditionFalse, doradev1.ReasonPodsRefused, msg),
			cond(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonCreatingPods, "0 of 2 replicas exist, 0 ready"),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonPodsRefused, msg),
			cond(doradev1.ConditionStalled, metav1.ConditionTrue, doradev1.ReasonPodsRefused, msg))
		in := base(wl)
		in.Events = []eventsv1.Event{event("Workload", wl.Name, corev1.EventTypeWarning, doradev1.EventPodsRefused, `pods "train.v100-0" is forbidden: exceeded quota: gpus`, 4*time.Minute, 1)}
		return in
	}},
	{name: "host-network-not-allowed", kinds: []Kind{HostNetworkNotAllowed}, in: func() Input {
		wl := trainV100(1, 1)
		wl.Spec.Network = &doradev1.NetworkSpec{Mode: doradev1.NetworkModeHost}
		msg := "network.mode host needs a workspace with spec.allowHostNetwork: ask an administrator, or use bridge"
		wl.Status.Phase, wl.Status.Replicas, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhasePending, 0, 0, "0/1"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonCreatingPods, "0 of 1 replicas exist, 0 ready"),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonHostNetworkNotAllowed, msg),
			cond(doradev1.ConditionStalled, metav1.ConditionTrue, doradev1.ReasonHostNetworkNotAllowed, msg))
		return base(wl)
	}},
	{name: "image-pull", kinds: []Kind{ImagePull}, in: func() Input {
		wl := trainV100(1, 1)
		wl.Spec.Image.Image = "nvcr.io/nvidia/pytorch:24.05-py4"
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhasePending, 0, "0/1"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonCreatingPods, "1 of 1 replicas exist, 0 ready"),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonReplicasNotReady, "0 of 1 replicas are ready"))
		p := waiting(pod(wl, 0, "v100-1"), "ImagePullBackOff", `Back-off pulling image "nvcr.io/nvidia/pytorch:24.05-py4"`, 0)
		in := base(wl, p)
		in.Events = []eventsv1.Event{event("Pod", p.Name, corev1.EventTypeWarning, "Failed", `Failed to pull image "nvcr.io/nvidia/pytorch:24.05-py4": manifest unknown`, time.Minute, 4)}
		return in
	}},
	{name: "crash-loop", kinds: []Kind{CrashLoop}, in: func() Input {
		wl := trainV100(1, 1)
		wl.Spec.Config = &doradev1.ContainerConfig{RestartPolicy: doradev1.RestartAlways, Cmd: doradev1.NewString("python trian.py")}
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhasePending, 0, "0/1"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonCreatingPods, "1 of 1 replicas exist, 0 ready"),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonReplicasNotReady, "0 of 1 replicas are ready"))
		return base(wl, waiting(pod(wl, 0, "v100-1"), "CrashLoopBackOff", "back-off 5m0s restarting failed container=workload pod=train.v100-0", 6))
	}},
	{name: "failed", kinds: []Kind{Failed}, in: func() Input {
		wl := trainV100(2, 1)
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhaseFailed, 0, "0/2"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonFailed, "2 of 2 replicas failed"),
			cond(doradev1.ConditionStalled, metav1.ConditionTrue, doradev1.ReasonFailed, "2 of 2 replicas failed"))
		p0 := pod(wl, 0, "v100-1")
		p0.Status = corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{Name: "workload",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}}
		p1 := pod(wl, 1, "v100-0")
		p1.Status = corev1.PodStatus{Phase: corev1.PodFailed, Reason: "DeadlineExceeded", Message: "Pod was active on the node longer than the specified deadline"}
		return base(wl, p0, p1)
	}},
	{name: "completed", kinds: []Kind{Completed}, ok: true, in: func() Input {
		wl := trainV100(1, 1)
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhaseCompleted, 0, "0/1"
		wl.Status.Conditions = set(wl.Status.Conditions, cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonCompleted, "every replica ran to completion"))
		p := pod(wl, 0, "v100-1")
		p.Status = corev1.PodStatus{Phase: corev1.PodSucceeded}
		return base(wl, p)
	}},
	{name: "scaled-to-zero", kinds: []Kind{ScaledToZero}, ok: true, in: func() Input {
		wl := trainV100(0, 1)
		wl.Status.Phase, wl.Status.Replicas, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhaseRunning, 0, 0, "0/0"
		wl.Status.Conditions = set(wl.Status.Conditions, cond(doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonScaledToZero, "replica.count is 0"))
		return base(wl)
	}},
	{name: "not-observed", kinds: []Kind{NotObserved, Running}, ok: false, in: func() Input {
		wl := trainV100(1, 1)
		wl.Generation = 3
		wl.Status.ObservedGeneration = 2
		return base(wl, running(pod(wl, 0, "v100-1")))
	}},
	{name: "no-status-yet", kinds: []Kind{NotObserved, Starting}, in: func() Input {
		wl := trainV100(1, 1)
		wl.Status = doradev1.WorkloadStatus{}
		return base(wl)
	}},
	{name: "starting", kinds: []Kind{Starting}, in: func() Input {
		wl := trainV100(2, 4)
		wl.Status.Phase, wl.Status.ReadyReplicas, wl.Status.Ready = doradev1.WorkloadPhaseRunning, 1, "1/2"
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonCreatingPods, "2 of 2 replicas exist, 1 ready"),
			cond(doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonReplicasNotReady, "1 of 2 replicas are ready"))
		return base(wl, running(pod(wl, 0, "v100-0")), waiting(pod(wl, 1, "v100-1"), "ContainerCreating", "", 0))
	}},
	{name: "rolling-out", kinds: []Kind{RollingOut, Running}, ok: true, in: func() Input {
		wl := trainV100(2, 4)
		wl.Status.Conditions = set(wl.Status.Conditions,
			cond(doradev1.WorkloadProgressing, metav1.ConditionTrue, doradev1.ReasonReplacingPods, "replacing 1 pods with revision 6d5f8b9c7"),
			cond(doradev1.ConditionReconciling, metav1.ConditionTrue, doradev1.ReasonReplacingPods, "replacing 1 pods with revision 6d5f8b9c7"))
		return base(wl, running(pod(wl, 0, "v100-0")), running(pod(wl, 1, "v100-1")))
	}},
	{name: "deleting", kinds: []Kind{Deleting}, in: func() Input {
		wl := trainV100(1, 1)
		wl.DeletionTimestamp = ptr.To(ago(20 * time.Second))
		p := running(pod(wl, 0, "v100-1"))
		p.DeletionTimestamp = ptr.To(ago(19 * time.Second))
		return base(wl, p)
	}},
}

func TestExplainGolden(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Explain(tc.in())
			var kinds []Kind
			for _, c := range r.Causes {
				kinds = append(kinds, c.Kind)
			}
			if diff := cmp.Diff(tc.kinds, kinds); diff != "" {
				t.Errorf("causes (-want +got):\n%s", diff)
			}
			if r.OK != tc.ok {
				t.Errorf("OK = %v, want %v", r.OK, tc.ok)
			}
			for _, c := range r.Causes {
				if c.Action == "" && c.Kind != Running {
					t.Errorf("cause %s says nothing to do", c.Kind)
				}
			}
			golden(t, tc.name, r.String())
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (DORA_UPDATE_GOLDEN=1 writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-golden +got; DORA_UPDATE_GOLDEN=1 rewrites it):\n%s", path, diff)
	}
}

// Every cause kind Explain knows has a golden case, but Stalled and Unknown, which are the
// fallbacks for statuses the other kinds do not explain (tested below).
func TestEveryKindHasAGoldenCase(t *testing.T) {
	seen := map[Kind]bool{}
	for _, tc := range cases {
		for _, k := range tc.kinds {
			seen[k] = true
		}
	}
	for _, k := range []Kind{Deleting, NotObserved, Paused, CreditsExhausted, WouldExceedBudget, HostNetworkNotAllowed, VolumesNotReady,
		PortUnavailable, PodsRefused, NoProduct, NodeNotFound, TooManyGPUs, GPUsBusy, Unschedulable, ImagePull, CrashLoop,
		Failed, RollingOut, Starting, Running, Completed, ScaledToZero} {
		if !seen[k] {
			t.Errorf("no golden case for %s", k)
		}
	}
}

func TestExplainFallbacks(t *testing.T) {
	wl := trainV100(1, 1)
	wl.Status.Conditions = set(wl.Status.Conditions,
		cond(doradev1.ConditionReady, metav1.ConditionFalse, "SomethingNew", "a reason this version does not know"),
		cond(doradev1.ConditionStalled, metav1.ConditionTrue, "SomethingNew", "someone must act"))
	r := Explain(base(wl))
	if len(r.Causes) != 1 || r.Causes[0].Kind != Stalled || !strings.Contains(r.Causes[0].Message, "someone must act") {
		t.Errorf("stalled: %+v", r.Causes)
	}

	wl.Status.Conditions = set(settled(1), cond(doradev1.ConditionReady, metav1.ConditionFalse, "SomethingNew", "a reason this version does not know"))
	p := running(pod(wl, 0, "v100-1"))
	r = Explain(base(wl, p))
	if len(r.Causes) != 1 || r.Causes[0].Kind != Unknown || !strings.Contains(r.Causes[0].Message, "a reason this version does not know") {
		t.Errorf("unknown: %+v", r.Causes)
	}

	// A nil workload and no input at all do not panic, and still say something.
	if r := Explain(Input{}); len(r.Causes) == 0 {
		t.Error("no cause for an empty input")
	}
}

// The held workload's reset is shown in the caller's time zone.
func TestExplainResetInLocalTime(t *testing.T) {
	in := cases[2].in()
	loc := time.FixedZone("CET", 3600)
	in.Now = now.In(loc)
	r := Explain(in)
	if !strings.Contains(r.Causes[0].Message, "until the reset at Sun 2025-01-12 01:00 CET, in 3d13h") {
		t.Errorf("reset not in local time: %s", r.Causes[0].Message)
	}
}

// The scheduler's message is read from a FailedScheduling event when the pod's condition
// has none yet.
func TestExplainSchedulerMessageFromEvents(t *testing.T) {
	wl := trainV100(1, 4)
	p := pod(wl, 0, "")
	p.Status.Phase = corev1.PodPending
	in := base(wl, p)
	in.Events = []eventsv1.Event{event("Pod", p.Name, corev1.EventTypeWarning, "FailedScheduling", waitMsg, 10*time.Second, 1)}
	r := Explain(in)
	if r.Replicas[0].Reason != doradev1.ReasonUnschedulable || r.Replicas[0].Message != waitMsg {
		t.Errorf("replica = %+v", r.Replicas[0])
	}
	if len(r.Causes) == 0 || r.Causes[0].Kind != GPUsBusy {
		t.Errorf("causes = %+v", r.Causes)
	}
}
