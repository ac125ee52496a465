// Package why answers kubectl dora why WORKLOAD: one screen that says why a workload is not
// running and what to do about it.
//
// It is pure: the caller reads the Workload, its pods, the zone's Dora Nodes and Kubernetes
// Nodes, the events about the workload and its pods, and its owner's UserCredit, and Explain
// turns them into a Report: a list of causes, most important first, each with what to do;
// the replicas with each pending one's scheduler message; the GPUs of the asked models free
// now, per node; the condition chain; and the recent events. Report.Render writes it as
// text.
//
// It reads the statuses as the manager writes them (internal/controller/workload): the
// Ready condition's reason says what matters most, and Paused, CreditsExhausted,
// VolumesReady, PortsReady, PodsAdmitted, Queued and Stalled say the rest. Where the
// workload's status is behind its spec, or the pods say more than the status (a scheduler
// message, an image that cannot be pulled, a container that keeps exiting), the pods and
// events are read as well.
package why

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/cli/creditsview"
	"github.com/dora-hpc/dora-operator/internal/cli/gpus"
)

// Input is everything Explain reads. Only Workload is required.
type Input struct {
	// Workload is the workload asked about.
	Workload *doradev1.Workload
	// Pods are the workload's pods (labelled dora.dev/workload with it).
	Pods []corev1.Pod
	// Nodes are the zone's Dora Nodes, with the GPUs their agents report.
	Nodes []doradev1.Node
	// KubeNodes are the zone's Kubernetes Nodes (nvidia.com/gpu.product, allocatable
	// nvidia.com/gpu, cordons).
	KubeNodes []corev1.Node
	// NodePods are the pods bound to the zone's nodes, to count the GPUs in use on nodes
	// whose agent reports none (allocatable minus requests). Optional: without them such
	// nodes count only this workload's own pods.
	NodePods []corev1.Pod
	// Events are the events regarding the workload and its pods (events.k8s.io/v1).
	Events []eventsv1.Event
	// UserCredit is the owner's UserCredit; nil when the workload has no owner or none exists.
	UserCredit *doradev1.UserCredit
	// Zone is the zone's name.
	Zone string
	// Now is the current time; times are shown in its location.
	Now time.Time
}

// Kind is a kind of cause.
type Kind string

// The causes Explain recognises, in the order it reports them.
const (
	// Deleting: the workload is being deleted.
	Deleting Kind = "Deleting"
	// NotObserved: the manager has not yet acted on the latest spec (or written any status).
	NotObserved Kind = "NotObserved"
	// Paused: spec.paused holds the workload with no pods.
	Paused Kind = "Paused"
	// CreditsExhausted: the owner's weekly budget in the zone is spent (or the zone requires
	// a budget the owner does not have); the pods are removed until the reset.
	CreditsExhausted Kind = "CreditsExhausted"
	// WouldExceedBudget: safe mode keeps the workload from starting, as it may cost more
	// than its owner has left.
	WouldExceedBudget Kind = "WouldExceedBudget"
	// HostNetworkNotAllowed: network.mode host in a workspace that does not allow it.
	HostNetworkNotAllowed Kind = "HostNetworkNotAllowed"
	// VolumesNotReady: a mounted volume's claim is missing or unbound.
	VolumesNotReady Kind = "VolumesNotReady"
	// PortUnavailable: the API server refused a NodePort.
	PortUnavailable Kind = "PortUnavailable"
	// PodsRefused: the API server refused to create pods (quota, Pod Security, a webhook).
	PodsRefused Kind = "PodsRefused"
	// NoProduct: no node in the zone has the GPU model asked for.
	NoProduct Kind = "NoProduct"
	// NodeNotFound: selectors.node.name names a node the zone does not have.
	NodeNotFound Kind = "NodeNotFound"
	// TooManyGPUs: a replica asks for more GPUs than any node of the asked models has.
	TooManyGPUs Kind = "TooManyGPUs"
	// GPUsBusy: no node of the asked models has enough GPUs free now; the replica waits.
	GPUsBusy Kind = "GPUsBusy"
	// Unschedulable: the scheduler finds no node for another reason (its message says).
	Unschedulable Kind = "Unschedulable"
	// ImagePull: the image cannot be pulled.
	ImagePull Kind = "ImagePull"
	// CrashLoop: the container keeps exiting and is restarted with back-off.
	CrashLoop Kind = "CrashLoop"
	// ContainerError: the container cannot be created or started.
	ContainerError Kind = "ContainerError"
	// Failed: replicas failed and the restart policy keeps them so.
	Failed Kind = "Failed"
	// Stalled: the manager says nothing changes without someone acting (kstatus Stalled),
	// for a reason none of the above covers.
	Stalled Kind = "Stalled"
	// RollingOut: a new revision is replacing the pods, or surplus ones are being removed.
	RollingOut Kind = "RollingOut"
	// Starting: replicas are on their way (created, pulling, starting) and nothing is wrong.
	Starting Kind = "Starting"
	// Running: nothing is wrong: every replica runs.
	Running Kind = "Running"
	// Completed: every replica ran to completion.
	Completed Kind = "Completed"
	// ScaledToZero: replica.count is 0.
	ScaledToZero Kind = "ScaledToZero"
	// Unknown: the status says the workload is not ready and none of the above explains it.
	Unknown Kind = "Unknown"
)

// OK reports whether the kind says nothing is wrong: Running, Completed, ScaledToZero, or
// RollingOut (a new revision replacing running replicas).
func (k Kind) OK() bool {
	return k == Running || k == Completed || k == ScaledToZero || k == RollingOut
}

// Cause is one reason the workload is as it is.
type Cause struct {
	// Kind is what kind of cause it is.
	Kind Kind `json:"kind"`
	// Message says what is wrong, with the status's or the scheduler's own words.
	Message string `json:"message"`
	// Details are further lines: the models that exist, where GPUs are free.
	Details []string `json:"details,omitempty"`
	// Action says what to do.
	Action string `json:"action,omitempty"`
	// Replicas are the replicas it concerns, when it is about some.
	Replicas []int32 `json:"replicas,omitempty"`
}

// Replica is one replica as the report shows it.
type Replica struct {
	// Index is the replica index.
	Index int32 `json:"index"`
	// Pod is the pod's name; empty when it does not exist.
	Pod string `json:"pod,omitempty"`
	// Node is the node it runs on; empty when it has none.
	Node string `json:"node,omitempty"`
	// State is Running, Ready, Pending, Waiting, Succeeded, Failed, Terminating or Missing.
	State string `json:"state"`
	// Reason and Message say why it is in that state (a scheduler message for a pending one).
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Restarts is the container's restart count.
	Restarts int32 `json:"restarts,omitempty"`
}

// FreeGPUs is one node's GPUs of an asked model.
type FreeGPUs struct {
	// Node and Product are the node and the model.
	Node    string `json:"node"`
	Product string `json:"product"`
	// Free and Total are its GPUs of the model free now, and all of them.
	Free  int `json:"free"`
	Total int `json:"total"`
	// Note says why free GPUs cannot be had (cordoned, not Ready).
	Note string `json:"note,omitempty"`
}

// Event is one event about the workload or its pods.
type Event struct {
	// Time is when it last happened.
	Time time.Time `json:"time"`
	// Type is Normal or Warning; Reason its reason.
	Type   string `json:"type"`
	Reason string `json:"reason"`
	// Object is kind/name of what it regards.
	Object string `json:"object"`
	// Note is its message; Count how many times it happened.
	Note  string `json:"note"`
	Count int32  `json:"count,omitempty"`
}

// Report is what Explain finds.
type Report struct {
	// Namespace, Name and Zone say which workload.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Zone      string `json:"zone,omitempty"`
	// Phase is the status's; Ready is its readyReplicas over the replicas the spec asks
	// for, such as 1/2 (0/2 while paused or held, where the status says 0/0).
	Phase doradev1.WorkloadPhase `json:"phase,omitempty"`
	Ready string                 `json:"ready"`
	// OK is true when nothing is wrong: every cause's Kind.OK.
	OK bool `json:"ok"`
	// Causes are the reasons, most important first; never empty.
	Causes []Cause `json:"causes"`
	// Replicas are the desired replicas, by index.
	Replicas []Replica `json:"replicas,omitempty"`
	// GPUsPerReplica and Models are what the workload asks for (Models empty: any model).
	GPUsPerReplica int64    `json:"gpusPerReplica,omitempty"`
	Models         []string `json:"models,omitempty"`
	// Free are the nodes with GPUs of the asked models, most free first, shown when a
	// replica waits for hardware.
	Free []FreeGPUs `json:"free,omitempty"`
	// Conditions are the status's conditions in the order they explain the workload.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Events are the most recent events, oldest first.
	Events []Event `json:"events,omitempty"`
	// Now is when the report was made.
	Now time.Time `json:"now"`
}

// maxEvents is how many of the most recent events a report keeps.
const maxEvents = 10

// Explain says why in.Workload is not running, and what to do.
func Explain(in Input) Report {
	wl := in.Workload
	if wl == nil {
		wl = &doradev1.Workload{}
	}
	e := explainer{in: in, wl: wl, desired: wl.ReplicaCount()}
	if in.Now.IsZero() {
		e.in.Now = time.Now()
	}
	e.r = Report{
		Namespace: wl.Namespace, Name: wl.Name, Zone: in.Zone, Phase: wl.Status.Phase,
		Ready: fmt.Sprintf("%d/%d", wl.Status.ReadyReplicas, e.desired), Now: e.in.Now,
		GPUsPerReplica: gpuCount(wl), Models: askedModels(wl),
	}
	e.r.Conditions = orderedConditions(wl.Status.Conditions)
	e.replicas()
	e.r.Events = e.events()
	e.causes()
	e.r.OK = len(e.r.Causes) > 0 && !slices.ContainsFunc(e.r.Causes, func(c Cause) bool { return !c.Kind.OK() })
	return e.r
}

type explainer struct {
	in      Input
	wl      *doradev1.Workload
	desired int32
	// pods are the workload's pods by replica index.
	pods map[int32]*corev1.Pod
	r    Report
}

func (e *explainer) add(c Cause) { e.r.Causes = append(e.r.Causes, c) }

func (e *explainer) cond(t string) *metav1.Condition {
	return meta.FindStatusCondition(e.wl.Status.Conditions, t)
}

func (e *explainer) condIs(t string, status metav1.ConditionStatus) *metav1.Condition {
	if c := e.cond(t); c != nil && c.Status == status {
		return c
	}
	return nil
}

// held reports whether the workload has no pods on purpose: paused or held for credits.
func (e *explainer) held() bool {
	return e.wl.Spec.Paused || e.condIs(doradev1.CreditsExhausted, metav1.ConditionTrue) != nil || e.creditHold() != nil
}

func (e *explainer) causes() {
	wl := e.wl
	if wl.DeletionTimestamp != nil {
		e.add(Cause{Kind: Deleting,
			Message: fmt.Sprintf("the workload is being deleted (since %s ago): its pods and services are going away", age(e.in.Now, wl.DeletionTimestamp.Time)),
			Action:  "nothing to do: it disappears once its pods are gone; apply it again afterwards to run it again"})
	}
	switch {
	case len(wl.Status.Conditions) == 0:
		e.add(Cause{Kind: NotObserved, Message: "the manager has not written a status yet (a new workload's first status waits until its pods run, 30 s at most)",
			Action: "wait half a minute; if it stays so, the Dora manager of this zone may be down: ask an administrator"})
	case wl.Generation != 0 && wl.Status.ObservedGeneration < wl.Generation:
		e.add(Cause{Kind: NotObserved,
			Message: fmt.Sprintf("the manager has not acted on the latest change yet (the spec is at generation %d, the status describes %d): what follows may be out of date", wl.Generation, wl.Status.ObservedGeneration),
			Action:  "wait a few seconds and ask again; if it stays so, the Dora manager of this zone may be down: ask an administrator"})
	}
	if wl.Spec.Paused {
		e.add(Cause{Kind: Paused, Message: "the workload is paused (spec.paused is true): its pods are removed, as asked; everything else is kept",
			Action: fmt.Sprintf("resume it: kubectl dora resume %s (or set spec.paused to false)", wl.Name)})
	}
	e.credits()
	e.blockers()
	if !e.held() {
		e.scheduling()
		e.containers()
	}
	e.final()
}

// credits explains a credit hold, from the workload's CreditsExhausted condition and the
// owner's UserCredit.
func (e *explainer) credits() {
	c := e.condIs(doradev1.CreditsExhausted, metav1.ConditionTrue)
	hold := e.creditHold()
	if c == nil && hold == nil {
		return
	}
	owner := e.owner()
	reset := e.resetText(hold)
	if c != nil && c.Reason == doradev1.ReasonWouldExceedBudget {
		e.add(Cause{Kind: WouldExceedBudget,
			Message: "safe mode keeps it from starting: " + strings.TrimPrefix(c.Message, "safe mode: "),
			Action: fmt.Sprintf("it starts by itself when %s has enough left (the reset %s); or ask for less: a shorter spec.config.maxRunTime, fewer GPUs or replicas; or ask an administrator to raise spec.credits of user %s in zone %s",
				owner, reset, owner, e.zoneName())})
		return
	}
	if e.budgetRequired() {
		e.add(Cause{Kind: CreditsExhausted,
			Message: fmt.Sprintf("the workload is held: %s has no weekly budget in zone %s, and this zone requires one", owner, e.zoneName()),
			Action:  fmt.Sprintf("ask an administrator to add zone %s to spec.credits of user %s; the workload comes back by itself", e.zoneName(), owner)})
		return
	}
	msg := fmt.Sprintf("the workload is held: %s has spent the weekly budget in zone %s", owner, e.zoneName())
	if hold != nil && hold.Weekly != "" {
		if n, err := amountText(hold.Weekly); err == nil {
			msg = fmt.Sprintf("the workload is held: %s has spent the weekly budget of %s credits in zone %s", owner, n, e.zoneName())
		}
	}
	msg += "; its pods are removed until the reset " + reset
	e.add(Cause{Kind: CreditsExhausted, Message: msg,
		Action: fmt.Sprintf("wait for the reset (it comes back by itself), or ask an administrator to raise spec.credits of user %s in zone %s; resuming does not lift the hold (kubectl dora credits shows the budget)", owner, e.zoneName())})
}

// creditHold is the owner's zone entry when it says the budget is spent.
func (e *explainer) creditHold() *doradev1.ZoneCredits {
	if z := e.zoneCredits(); z != nil && z.Exhausted {
		return z
	}
	return nil
}

func (e *explainer) zoneCredits() *doradev1.ZoneCredits {
	uc := e.in.UserCredit
	if uc == nil {
		return nil
	}
	for i := range uc.Status.Zones {
		if uc.Status.Zones[i].Zone == e.in.Zone {
			return &uc.Status.Zones[i]
		}
	}
	return nil
}

func (e *explainer) budgetRequired() bool {
	if uc := e.in.UserCredit; uc != nil {
		c := meta.FindStatusCondition(uc.Status.Conditions, doradev1.CreditsExhausted)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == doradev1.ReasonBudgetRequired
	}
	return false
}

// resetText is "at Sun 2025-01-12 00:00 UTC, in 2d3h", from the UserCredit, else from the
// condition's own words.
func (e *explainer) resetText(hold *doradev1.ZoneCredits) string {
	z := hold
	if z == nil {
		z = e.zoneCredits()
	}
	if z != nil && z.NextReset != nil {
		t := z.NextReset.In(e.in.Now.Location())
		return fmt.Sprintf("at %s, in %s", creditsview.FormatTime(t), creditsview.FormatDuration(t.Sub(e.in.Now)))
	}
	return "(the CreditsExhausted condition gives its time)"
}

func (e *explainer) owner() string {
	if o := e.wl.Annotations[doradev1.AnnotationOwner]; o != "" {
		return o
	}
	if uc := e.in.UserCredit; uc != nil {
		if uc.Spec.User != "" {
			return uc.Spec.User
		}
		return uc.Name
	}
	return "the owner"
}

func (e *explainer) zoneName() string {
	if e.in.Zone != "" {
		return e.in.Zone
	}
	return "this zone"
}

// blockers explains what keeps the manager from creating pods: host networking, volumes,
// ports and refused pods.
func (e *explainer) blockers() {
	ready := e.cond(doradev1.ConditionReady)
	stalled := e.condIs(doradev1.ConditionStalled, metav1.ConditionTrue)
	if (ready != nil && ready.Reason == doradev1.ReasonHostNetworkNotAllowed) || (stalled != nil && stalled.Reason == doradev1.ReasonHostNetworkNotAllowed) {
		e.add(Cause{Kind: HostNetworkNotAllowed, Message: "host networking (network.mode host) is not allowed in this workspace (its spec.allowHostNetwork is not set): no pod is created",
			Action: "use network.mode bridge (network.ports still reach the replicas through NodePorts), or ask an administrator to set spec.allowHostNetwork on the workspace"})
	}
	if c := e.condIs(doradev1.WorkloadVolumesReady, metav1.ConditionFalse); c != nil {
		e.add(Cause{Kind: VolumesNotReady, Message: "the replicas wait for their volumes: " + strings.TrimPrefix(c.Message, "waiting for volumes: "),
			Action: "check the volumes (kubectl dora get vol) exist and are Ready; a volume of another workspace needs its owner's grant to be mounted; the replicas start by themselves once every claim is Bound"})
	}
	if c := e.condIs(doradev1.WorkloadPortsReady, metav1.ConditionFalse); c != nil {
		e.add(Cause{Kind: PortUnavailable, Message: c.Message,
			Action: "pick another network.ports[].nodePort inside the cluster's NodePort range (30000-32767 unless the cluster says otherwise), with nodePort + replica.count - 1 still inside it and not taken, or leave nodePort out and let the cluster choose"})
	}
	if c := e.condIs(doradev1.WorkloadPodsAdmitted, metav1.ConditionFalse); c != nil {
		msg := c.Message
		if i := strings.Index(msg, "; fix what it names"); i > 0 {
			msg = msg[:i]
		}
		e.add(Cause{Kind: PodsRefused, Message: "the API server refuses the workload's pods: " + msg,
			Action: "fix what the API server names: the spec, the namespace's ResourceQuota (kubectl describe quota), its Pod Security level or an admission policy; the manager tries again by itself, at most 5 minutes later"})
	}
}

// scheduling explains the replicas that wait for a node.
func (e *explainer) scheduling() {
	var waiting []int32
	var messages []string
	for _, rep := range e.r.Replicas {
		if rep.Reason == doradev1.ReasonUnschedulable {
			waiting = append(waiting, rep.Index)
			messages = append(messages, rep.Message)
		}
	}
	queued := e.condIs(doradev1.WorkloadQueued, metav1.ConditionTrue)
	if len(waiting) == 0 && queued == nil {
		return
	}
	scheduler := ""
	if len(messages) > 0 {
		scheduler = messages[0]
	} else if queued != nil {
		scheduler = queued.Message
	}
	nWaiting := fmt.Sprintf("%d of %d replicas wait", len(waiting), e.desired)
	if len(waiting) == 0 {
		nWaiting = "replicas wait"
	}

	summary := gpus.Summarize(e.in.Nodes, e.in.KubeNodes, e.nodePods())
	// A node pinned by name that the zone does not have.
	if sel := e.wl.Spec.Selectors.Node; sel != nil && sel.Name != "" && sel.Name != doradev1.All && !e.nodeExists(sel.Name) {
		e.add(Cause{Kind: NodeNotFound, Replicas: waiting,
			Message: fmt.Sprintf("%s for node %s (selectors.node.name), and zone %s has no such node", nWaiting, sel.Name, e.zoneName()),
			Details: []string{"nodes here: " + strings.Join(e.nodeNames(), ", ")},
			Action:  "set selectors.node.name to a node of this zone, or All"})
		return
	}
	need := e.r.GPUsPerReplica
	if need == 0 {
		e.add(Cause{Kind: Unschedulable, Replicas: waiting, Message: nWaiting + " for a node: the scheduler says: " + scheduler,
			Action: schedulerAdvice(scheduler, e.wl)})
		return
	}
	// Which models may serve: those asked for that exist, or every model.
	var exist []gpus.ModelSummary
	if len(e.r.Models) == 0 {
		exist = summary.Models
	} else {
		for _, m := range e.r.Models {
			if ms, ok := summary.Model(m); ok {
				exist = append(exist, ms)
			}
		}
	}
	if len(exist) == 0 {
		what := "GPUs"
		if len(e.r.Models) > 0 {
			what = "GPU model " + strings.Join(e.r.Models, " or ")
		}
		c := Cause{Kind: NoProduct, Replicas: waiting,
			Message: fmt.Sprintf("%s: no node in zone %s has %s", nWaiting, e.zoneName(), what),
			Action:  "set selectors.gpu.product_name to a model this zone has, a list of them, or All; or apply the workload to a zone that has this model"}
		if len(summary.Models) == 0 {
			c.Details = []string{"this zone has no GPU at all"}
			c.Action = "run it in a zone with GPUs, or without selectors.gpu"
		} else {
			c.Details = []string{"models here: " + modelList(summary.Models)}
		}
		e.add(c)
		return
	}
	e.r.Free = freeOf(summary, exist)
	mostOnANode, mostNode := 0, ""
	fits := 0
	mostFree, mostFreeNode := 0, ""
	for _, n := range summary.Nodes {
		total, free := 0, 0
		for _, g := range n.GPUs {
			if !servedBy(g.Product, exist) {
				continue
			}
			total++
			if g.State == gpus.Free {
				free++
			}
		}
		if total > mostOnANode {
			mostOnANode, mostNode = total, n.Name
		}
		if free > mostFree {
			mostFree, mostFreeNode = free, n.Name
		}
		if int64(free) >= need {
			fits++
		}
	}
	models := modelNames(exist)
	switch {
	case int64(mostOnANode) < need:
		e.add(Cause{Kind: TooManyGPUs, Replicas: waiting,
			Message: fmt.Sprintf("%s: each asks for %d GPUs of %s, and no node has that many: the most on one node is %d (%s)", nWaiting, need, models, mostOnANode, mostNode),
			Action:  fmt.Sprintf("ask for at most %d GPUs per replica (selectors.gpu.count) and run more replicas (replica.count)", mostOnANode)})
	case fits == 0:
		c := Cause{Kind: GPUsBusy, Replicas: waiting,
			Message: fmt.Sprintf("%s: each asks for %d GPUs of %s, and no node has %d free now", nWaiting, need, models, need)}
		if mostFree > 0 {
			c.Message += fmt.Sprintf(": the most free on one node is %d (%s)", mostFree, mostFreeNode)
		} else {
			c.Message += ": every one is in use"
		}
		c.Action = "it starts by itself when GPUs free up (the scheduler keeps trying)"
		var alternatives []string
		for _, m := range summary.Models {
			if !servedBy(m.Product, exist) && int64(m.MaxFreeOnANode) >= need {
				alternatives = append(alternatives, fmt.Sprintf("%s (%d free on one node)", m.Product, m.MaxFreeOnANode))
			}
		}
		switch {
		case len(alternatives) > 0:
			c.Action += "; to start now, ask for a model with room: " + strings.Join(alternatives, ", ")
		case mostFree > 0:
			c.Action += fmt.Sprintf("; to start sooner, ask for %d GPUs per replica or fewer", mostFree)
		}
		if scheduler != "" {
			c.Details = []string{"the scheduler says: " + scheduler}
		}
		e.add(c)
	default:
		e.add(Cause{Kind: Unschedulable, Replicas: waiting,
			Message: fmt.Sprintf("%s although %d node(s) have %d free GPUs of %s: something else rules them out; the scheduler says: %s", nWaiting, fits, need, models, scheduler),
			Action:  schedulerAdvice(scheduler, e.wl)})
	}
}

func (e *explainer) nodePods() []corev1.Pod {
	if e.in.NodePods != nil {
		return e.in.NodePods
	}
	return e.in.Pods
}

func (e *explainer) nodeExists(name string) bool {
	for _, n := range e.in.KubeNodes {
		if n.Name == name {
			return true
		}
	}
	for _, n := range e.in.Nodes {
		if n.Name == name {
			return true
		}
	}
	return len(e.in.KubeNodes) == 0 && len(e.in.Nodes) == 0
}

func (e *explainer) nodeNames() []string {
	set := map[string]bool{}
	for _, n := range e.in.KubeNodes {
		set[n.Name] = true
	}
	for _, n := range e.in.Nodes {
		set[n.Name] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// schedulerAdvice reads the scheduler's message for what rules the nodes out.
func schedulerAdvice(msg string, wl *doradev1.Workload) string {
	var advice []string
	if strings.Contains(msg, "Insufficient cpu") {
		advice = append(advice, "ask for fewer cores per replica (selectors.cpu.count)")
	}
	if strings.Contains(msg, "Insufficient memory") {
		advice = append(advice, "the nodes lack the memory asked for (a large config.shmSize counts as memory)")
	}
	if strings.Contains(msg, "node affinity/selector") {
		what := "selectors.gpu.product_name and selectors.cpu.product_name"
		if wl.Spec.Selectors.Node != nil && wl.Spec.Selectors.Node.Name != "" && wl.Spec.Selectors.Node.Name != doradev1.All {
			what = "selectors.node.name (" + wl.Spec.Selectors.Node.Name + "), " + what
		}
		advice = append(advice, "check "+what+": some nodes do not match them, or take no workloads of this class (Dora Node spec.allow)")
	}
	if strings.Contains(msg, "unschedulable") || strings.Contains(msg, "untolerated taint") {
		advice = append(advice, "some nodes are cordoned or tainted: ask an administrator")
	}
	if strings.Contains(msg, "anti-affinity") || strings.Contains(msg, "affinity rules") {
		advice = append(advice, "config.affinity Distribute or Fill only prefers; check the pod placement rules")
	}
	if len(advice) == 0 {
		return "read the scheduler's message above; the replica starts by itself when a node fits"
	}
	return strings.Join(advice, "; ")
}

// containers explains replicas whose pod has a node but whose container does not run.
func (e *explainer) containers() {
	type group struct {
		cause    Cause
		replicas []int32
	}
	groups := map[Kind]*group{}
	var order []Kind
	addTo := func(k Kind, index int32, msg, action string) {
		g := groups[k]
		if g == nil {
			g = &group{cause: Cause{Kind: k, Message: msg, Action: action}}
			groups[k] = g
			order = append(order, k)
		}
		g.replicas = append(g.replicas, index)
	}
	image := e.wl.Spec.Image.Image
	failed := 0
	for _, rep := range e.r.Replicas {
		if rep.State == "Failed" {
			failed++
		}
		if pod := e.pods[rep.Index]; pod == nil || pod.DeletionTimestamp != nil || rep.State != "Waiting" {
			continue
		}
		switch rep.Reason {
		case "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable":
			addTo(ImagePull, rep.Index,
				fmt.Sprintf("the image %s cannot be pulled (%s): %s", image, rep.Reason, dashIfEmpty(rep.Message)),
				"check spec.image.image (name and tag) and that the nodes can reach its registry; a private registry needs a pull secret in the workspace; with pullPolicy Never the image must already be on the node")
		case "CrashLoopBackOff":
			addTo(CrashLoop, rep.Index,
				fmt.Sprintf("the container keeps exiting (%d restarts)%s", rep.Restarts, lastExit(e.pods[rep.Index])),
				fmt.Sprintf("kubectl dora logs %s --replica %d --previous shows why it exited; check config.cmd and config.env", e.wl.Name, rep.Index))
		case "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "PreCreateHookError", "PostStartHookError":
			addTo(ContainerError, rep.Index,
				fmt.Sprintf("the container cannot be started (%s): %s", rep.Reason, dashIfEmpty(rep.Message)),
				"fix what the message names (a missing secret or config map, a command that does not exist in the image)")
		}
	}
	for _, k := range order {
		g := groups[k]
		g.cause.Replicas = g.replicas
		g.cause.Message = replicasPrefix(g.replicas) + g.cause.Message
		e.add(g.cause)
	}
	ready := e.cond(doradev1.ConditionReady)
	if (ready != nil && ready.Reason == doradev1.ReasonFailed) || (failed > 0 && e.restartNever()) {
		var idx []int32
		var detail []string
		for _, rep := range e.r.Replicas {
			if rep.State == "Failed" {
				idx = append(idx, rep.Index)
				detail = append(detail, fmt.Sprintf("replica %d: %s", rep.Index, describeFailure(rep)))
			}
		}
		msg := fmt.Sprintf("%d of %d replicas failed, and restartPolicy Never keeps them so", len(idx), e.desired)
		if ready != nil && ready.Reason == doradev1.ReasonFailed && len(idx) == 0 {
			msg = ready.Message
		}
		first := int32(0)
		if len(idx) > 0 {
			first = idx[0]
		}
		e.add(Cause{Kind: Failed, Replicas: idx, Message: msg, Details: detail,
			Action: fmt.Sprintf("kubectl dora logs %s --replica %d shows why; fix the spec and apply it again (a new revision replaces the pods), or use restartPolicy OnFailure", e.wl.Name, first)})
	}
}

func (e *explainer) restartNever() bool {
	c := e.wl.Spec.Config
	return c == nil || c.RestartPolicy == "" || c.RestartPolicy == doradev1.RestartNever
}

// final adds what is left to say once the blocking causes are known: Stalled for another
// reason, a rollout, replicas starting, or that nothing is wrong.
func (e *explainer) final() {
	ready := e.cond(doradev1.ConditionReady)
	blocking := len(e.r.Causes) > 0 && !slices.ContainsFunc(e.r.Causes, func(c Cause) bool { return c.Kind == NotObserved })
	if stalled := e.condIs(doradev1.ConditionStalled, metav1.ConditionTrue); stalled != nil && !blocking {
		e.add(Cause{Kind: Stalled, Message: fmt.Sprintf("%s: %s", stalled.Reason, stalled.Message),
			Action: "nothing changes until someone acts on the message"})
		return
	}
	if blocking {
		return
	}
	if p := e.condIs(doradev1.WorkloadProgressing, metav1.ConditionTrue); p != nil && (p.Reason == doradev1.ReasonReplacingPods || p.Reason == doradev1.ReasonScalingDown) {
		e.add(Cause{Kind: RollingOut, Message: p.Message, Action: "nothing to do: the replicas are replaced one by one; kubectl dora history " + e.wl.Name + " lists the revisions"})
	}
	switch {
	case ready != nil && ready.Status == metav1.ConditionTrue && ready.Reason == doradev1.ReasonCompleted:
		e.add(Cause{Kind: Completed, Message: fmt.Sprintf("nothing is wrong: every replica ran to completion (%d/%d succeeded)", e.count("Succeeded"), e.desired),
			Action: fmt.Sprintf("kubectl dora logs %s shows the output; delete it when done", e.wl.Name)})
	case e.desired == 0 || ready != nil && ready.Reason == doradev1.ReasonScaledToZero:
		e.add(Cause{Kind: ScaledToZero, Message: "nothing runs, as asked: replica.count is 0",
			Action: "set replica.count to 1 or more to run it"})
	case (e.pods != nil && e.count("Ready") == int(e.desired) && (ready == nil || ready.Status == metav1.ConditionTrue)) ||
		(e.pods == nil && ready != nil && ready.Status == metav1.ConditionTrue && ready.Reason == doradev1.ReasonAllReplicasReady):
		// The pods say so, and the manager does not say otherwise; or, without the pods, the
		// manager says so.
		e.add(Cause{Kind: Running, Message: fmt.Sprintf("nothing is wrong: %d/%d replicas running", e.desired, e.desired)})
	default:
		var starting []string
		var idx []int32
		for _, rep := range e.r.Replicas {
			if rep.State == "Ready" || rep.State == "Succeeded" {
				continue
			}
			idx = append(idx, rep.Index)
			starting = append(starting, fmt.Sprintf("replica %d: %s", rep.Index, describeState(rep)))
		}
		if len(idx) == 0 && ready != nil && ready.Status != metav1.ConditionTrue {
			e.add(Cause{Kind: Unknown, Message: fmt.Sprintf("Ready is %s (%s): %s", ready.Status, ready.Reason, ready.Message),
				Action: "kubectl dora describe wk " + e.wl.Name + " and kubectl dora events " + e.wl.Name + " say more"})
			return
		}
		e.add(Cause{Kind: Starting, Replicas: idx,
			Message: fmt.Sprintf("%d of %d replicas are ready; the others are on their way", e.count("Ready"), e.desired),
			Details: starting,
			Action:  "wait: they start by themselves; kubectl dora events " + e.wl.Name + " shows progress"})
	}
}

func (e *explainer) count(state string) int {
	n := 0
	for _, rep := range e.r.Replicas {
		if rep.State == state {
			n++
		}
	}
	return n
}

// replicas fills the report's replicas from the pods.
func (e *explainer) replicas() {
	e.pods = map[int32]*corev1.Pod{}
	for i := range e.in.Pods {
		p := &e.in.Pods[i]
		index, ok := replicaIndex(p, e.wl.Name)
		if !ok {
			continue
		}
		if old := e.pods[index]; old == nil || (old.DeletionTimestamp != nil && p.DeletionTimestamp == nil) {
			e.pods[index] = p
		}
	}
	if len(e.in.Pods) == 0 {
		e.pods = nil
	}
	why := "not created"
	switch {
	case e.wl.Spec.Paused:
		why = "not created: the workload is paused"
	case e.held():
		why = "not created: the workload is held for credits"
	}
	for i := range e.desired {
		if i >= 1000 {
			break
		}
		pod := e.pods[i]
		if pod == nil {
			e.r.Replicas = append(e.r.Replicas, Replica{Index: i, State: "Missing", Reason: why})
			continue
		}
		e.r.Replicas = append(e.r.Replicas, replicaOf(i, pod, e.in.Events))
	}
}

// replicaOf is one replica's state from its pod.
func replicaOf(index int32, pod *corev1.Pod, events []eventsv1.Event) Replica {
	rep := Replica{Index: index, Pod: pod.Name, Node: pod.Spec.NodeName, State: string(pod.Status.Phase)}
	if rep.State == "" {
		rep.State = "Pending"
	}
	var cs *corev1.ContainerStatus
	for i := range pod.Status.ContainerStatuses {
		if c := &pod.Status.ContainerStatuses[i]; cs == nil || c.Name == "workload" {
			cs = c
		}
	}
	if cs != nil {
		rep.Restarts = cs.RestartCount
	}
	switch {
	case pod.DeletionTimestamp != nil:
		rep.State, rep.Reason = "Terminating", "the pod is being deleted"
	case pod.Spec.NodeName == "":
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				rep.Reason, rep.Message = c.Reason, strings.TrimSpace(c.Message)
			}
		}
		if ev := lastEvent(events, "Pod", pod.Name, "FailedScheduling"); ev != nil && (rep.Message == "" || rep.Reason == "") {
			rep.Reason, rep.Message = doradev1.ReasonUnschedulable, strings.TrimSpace(ev.Note)
		}
		if rep.Reason == "" {
			rep.Reason = "waiting for the scheduler"
		}
	case pod.Status.Phase == corev1.PodSucceeded:
	case pod.Status.Phase == corev1.PodFailed:
		rep.Reason, rep.Message = pod.Status.Reason, pod.Status.Message
		if pod.Status.Reason == "DeadlineExceeded" {
			rep.Message = "it ran for config.maxRunTime and was stopped"
		} else if cs != nil && cs.State.Terminated != nil {
			t := cs.State.Terminated
			rep.Reason, rep.Message = t.Reason, fmt.Sprintf("exit code %d %s", t.ExitCode, t.Message)
			rep.Message = strings.TrimSpace(rep.Message)
		}
	case cs != nil && cs.State.Waiting != nil:
		rep.State, rep.Reason, rep.Message = "Waiting", cs.State.Waiting.Reason, cs.State.Waiting.Message
	case cs != nil && cs.State.Running != nil:
		rep.State = "Running"
		if podReady(pod) {
			rep.State = "Ready"
		} else {
			rep.Reason = "running, not ready yet"
		}
	case cs != nil && cs.State.Terminated != nil:
		t := cs.State.Terminated
		rep.State, rep.Reason, rep.Message = "Waiting", t.Reason, fmt.Sprintf("exited with code %d", t.ExitCode)
	default:
		rep.Reason = "the node is starting it"
	}
	return rep
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// replicaIndex is a pod's replica index: its dora.dev/replica label, else its name's
// suffix after the workload's name.
func replicaIndex(pod *corev1.Pod, workload string) (int32, bool) {
	if v, ok := pod.Labels[doradev1.LabelReplica]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		return int32(n), err == nil && n >= 0
	}
	rest, ok := strings.CutPrefix(pod.Name, workload+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 32)
	return int32(n), err == nil && n >= 0
}

// lastExit is ", last exit code 1 (Error)" from a pod's last termination.
func lastExit(pod *corev1.Pod) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.LastTerminationState.Terminated; t != nil {
			return fmt.Sprintf(", last with exit code %d (%s)", t.ExitCode, dashIfEmpty(t.Reason))
		}
	}
	return ""
}

func describeState(rep Replica) string {
	s := rep.State
	if rep.Reason != "" {
		s += ", " + rep.Reason
	}
	if rep.Message != "" {
		s += ": " + rep.Message
	}
	return s
}

func describeFailure(rep Replica) string {
	switch {
	case rep.Reason != "" && rep.Message != "":
		return rep.Reason + ": " + rep.Message
	case rep.Reason != "" || rep.Message != "":
		return rep.Reason + rep.Message
	default:
		return "failed"
	}
}

func replicasPrefix(idx []int32) string {
	if len(idx) == 1 {
		return fmt.Sprintf("replica %d: ", idx[0])
	}
	parts := make([]string, len(idx))
	for i, n := range idx {
		parts[i] = strconv.Itoa(int(n))
	}
	return "replicas " + strings.Join(parts, ", ") + ": "
}

// events are the most recent events about the workload and its pods, oldest first.
func (e *explainer) events() []Event {
	pods := map[string]bool{}
	for _, p := range e.in.Pods {
		pods[p.Name] = true
	}
	var out []Event
	for _, ev := range e.in.Events {
		r := ev.Regarding
		if r.Namespace != "" && e.wl.Namespace != "" && r.Namespace != e.wl.Namespace {
			continue
		}
		switch {
		case r.Kind == "Workload" && r.Name == e.wl.Name:
		case r.Kind == "Pod" && (pods[r.Name] || isReplicaName(r.Name, e.wl.Name)):
		default:
			continue
		}
		count := ev.DeprecatedCount
		if ev.Series != nil {
			count = ev.Series.Count
		}
		out = append(out, Event{Time: eventTime(ev), Type: ev.Type, Reason: ev.Reason, Object: strings.ToLower(r.Kind) + "/" + r.Name, Note: strings.TrimSpace(ev.Note), Count: count})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Object+out[i].Reason < out[j].Object+out[j].Reason
	})
	if len(out) > maxEvents {
		out = out[len(out)-maxEvents:]
	}
	return out
}

func isReplicaName(name, workload string) bool {
	rest, ok := strings.CutPrefix(name, workload+"-")
	if !ok || rest == "" {
		return false
	}
	_, err := strconv.ParseUint(rest, 10, 32)
	return err == nil
}

func eventTime(ev eventsv1.Event) time.Time {
	switch {
	case ev.Series != nil && !ev.Series.LastObservedTime.IsZero():
		return ev.Series.LastObservedTime.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	case !ev.DeprecatedLastTimestamp.IsZero():
		return ev.DeprecatedLastTimestamp.Time
	default:
		return ev.CreationTimestamp.Time
	}
}

// lastEvent is the most recent event of reason about the object, or nil.
func lastEvent(events []eventsv1.Event, kind, name, reason string) *eventsv1.Event {
	var last *eventsv1.Event
	for i := range events {
		ev := &events[i]
		if ev.Regarding.Kind == kind && ev.Regarding.Name == name && ev.Reason == reason && (last == nil || eventTime(*ev).After(eventTime(*last))) {
			last = ev
		}
	}
	return last
}

// conditionOrder is the order the report shows conditions in: what explains most first.
var conditionOrder = []string{
	doradev1.ConditionReady, doradev1.WorkloadProgressing, doradev1.WorkloadPaused, doradev1.WorkloadQueued,
	doradev1.CreditsExhausted, doradev1.WorkloadVolumesReady, doradev1.WorkloadPortsReady, doradev1.WorkloadPodsAdmitted,
	doradev1.ConditionReconciling, doradev1.ConditionStalled,
}

func orderedConditions(conds []metav1.Condition) []metav1.Condition {
	out := append([]metav1.Condition(nil), conds...)
	rank := func(t string) int {
		if i := slices.Index(conditionOrder, t); i >= 0 {
			return i
		}
		return len(conditionOrder)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank(out[i].Type), rank(out[j].Type); ri != rj {
			return ri < rj
		}
		return out[i].Type < out[j].Type
	})
	return out
}

// gpuCount is the GPUs per replica (selectors.gpu.count), 0 when none or unreadable.
func gpuCount(wl *doradev1.Workload) int64 {
	g := wl.Spec.Selectors.GPU
	if g == nil || g.Count == nil {
		return 0
	}
	if g.Count.Type == intstr.Int {
		return max(int64(g.Count.IntVal), 0)
	}
	n, err := strconv.ParseInt(g.Count.StrVal, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// askedModels are the GPU models asked for; nil when any will do.
func askedModels(wl *doradev1.Workload) []string {
	g := wl.Spec.Selectors.GPU
	if g == nil || gpuCount(wl) == 0 || slices.Contains(g.ProductName.Values, doradev1.All) {
		return nil
	}
	var out []string
	for _, v := range g.ProductName.Values {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func servedBy(product string, models []gpus.ModelSummary) bool {
	for _, m := range models {
		if gpus.SameModel(m.Product, product) {
			return true
		}
	}
	return false
}

func modelNames(models []gpus.ModelSummary) string {
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.Product
	}
	return strings.Join(names, " or ")
}

func modelList(models []gpus.ModelSummary) string {
	parts := make([]string, len(models))
	for i, m := range models {
		parts[i] = fmt.Sprintf("%s (%d GPUs, %d free)", m.Product, m.Total, m.Free)
	}
	return strings.Join(parts, ", ")
}

// freeOf are the nodes with GPUs of the models, most free first, then by name.
func freeOf(s gpus.Summary, models []gpus.ModelSummary) []FreeGPUs {
	var out []FreeGPUs
	for _, n := range s.Nodes {
		per := map[string]*FreeGPUs{}
		for _, g := range n.GPUs {
			if !servedBy(g.Product, models) {
				continue
			}
			f := per[g.Product]
			if f == nil {
				f = &FreeGPUs{Node: n.Name, Product: g.Product, Note: n.Note}
				per[g.Product] = f
			}
			f.Total++
			if g.State == gpus.Free {
				f.Free++
			}
		}
		for _, f := range per {
			out = append(out, *f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Free != out[j].Free {
			return out[i].Free > out[j].Free
		}
		if out[i].Node != out[j].Node {
			return out[i].Node < out[j].Node
		}
		return out[i].Product < out[j].Product
	})
	return out
}

func dashIfEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func age(now, t time.Time) string { return creditsview.FormatDuration(now.Sub(t)) }
