// Package agent is the Dora node agent: on every GPU node it reads the hardware through
// NVML, keeps the node's Dora Node status and labels true, renews a Lease as its heartbeat
// and serves per-GPU metrics. It writes only when something changed (see package report),
// and never creates a Dora Node or a Lease for a node that no longer exists.
package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent/inventory"
	"github.com/dora-hpc/dora-operator/internal/agent/report"
)

// Config configures an Agent.
type Config struct {
	// NodeName is the node this agent reports for.
	NodeName string
	// Namespace holds the agent's Lease.
	Namespace string
	// PollInterval is how often the hardware is read and the Lease renewed.
	PollInterval time.Duration
	// LeaseDuration is how long the Lease is valid after a renewal.
	LeaseDuration time.Duration
	// Thresholds decide when live readings are written.
	Thresholds report.Thresholds
	// GFDLabels makes the agent set nvidia.com/gpu.* labels; turn it off where NVIDIA's
	// gpu-feature-discovery runs.
	GFDLabels bool
}

// Host reads the node's CPU and memory.
type Host func() (doradev1.CPUInfo, int64)

// Holders maps GPU UUIDs to the pods holding them ("namespace/name").
type Holders func(ctx context.Context) (map[string]string, error)

// Agent reports one node.
type Agent struct {
	client  client.Client
	clock   clock.WithTicker
	cfg     Config
	nvml    *NVML
	host    Host
	holders Holders
	xids    *xidWatcher

	mu         sync.Mutex
	lastStatus *doradev1.NodeStatus
	lastAt     time.Time
	noNode     bool

	latest atomic.Pointer[doradev1.NodeStatus]
}

// New returns an agent. holders may be nil (no PodResources API, as in the playground).
func New(c client.Client, clk clock.WithTicker, cfg Config, lib *NVML, host Host, holders Holders) *Agent {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 10 * time.Second
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = 40 * time.Second
	}
	if cfg.Thresholds == (report.Thresholds{}) {
		cfg.Thresholds = report.DefaultThresholds
	}
	return &Agent{client: c, clock: clk, cfg: cfg, nvml: lib, host: host, holders: holders, xids: newXIDWatcher()}
}

// Run reads and reports every PollInterval until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithValues("node", a.cfg.NodeName)
	ctx = ctrl.LoggerInto(ctx, log)
	if lib, err := a.nvml.Get(); err == nil {
		go a.xids.watch(ctx, lib)
	}
	ticker := a.clock.NewTicker(a.cfg.PollInterval)
	defer ticker.Stop()
	for {
		if err := a.Sync(ctx); err != nil {
			log.Error(err, "Reporting the node; trying again at the next poll")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C():
		}
	}
}

// Read reads the hardware once and returns the status the agent would report.
func (a *Agent) Read(ctx context.Context) doradev1.NodeStatus {
	var in report.Input
	in.CPU, in.MemoryMiB = a.host()
	lib, err := a.nvml.Get()
	if err == nil {
		in.GPUs, err = inventory.ReadGPUs(lib)
	}
	if err != nil {
		in.NVMLError = err.Error()
	}
	a.xids.apply(in.GPUs.Devices)
	if a.holders != nil {
		holders, err := a.holders(ctx)
		if err != nil {
			ctrl.LoggerFrom(ctx).V(1).Info("GPU holders unknown this poll", "reason", err.Error())
		}
		in.Holders = holders
	}
	st := report.Status(in)
	a.latest.Store(&st)
	return st
}

// Latest is the status of the last read, for metrics; nil before the first.
func (a *Agent) Latest() *doradev1.NodeStatus { return a.latest.Load() }

// Sync reads the hardware once, renews the Lease, and writes labels and status where they
// changed.
func (a *Agent) Sync(ctx context.Context) error {
	st := a.Read(ctx)
	node := &corev1.Node{}
	if err := a.client.Get(ctx, client.ObjectKey{Name: a.cfg.NodeName}, node); err != nil {
		if apierrors.IsNotFound(err) {
			a.sayNoNode(ctx)
			return nil
		}
		return fmt.Errorf("reading node %s: %w", a.cfg.NodeName, err)
	}
	a.noNode = false
	if err := a.renewLease(ctx, node); err != nil {
		return err
	}
	if err := a.syncLabels(ctx, node, st); err != nil {
		return err
	}
	return a.syncStatus(ctx, st)
}

func (a *Agent) sayNoNode(ctx context.Context) {
	if !a.noNode {
		ctrl.LoggerFrom(ctx).Info("The Kubernetes Node does not exist; nothing is reported until it does")
		a.noNode = true
	}
}

// syncStatus writes the agent's part of the Dora Node status when report.NeedsWrite says so.
func (a *Agent) syncStatus(ctx context.Context, st doradev1.NodeStatus) error {
	now := a.clock.Now()
	a.mu.Lock()
	need := report.NeedsWrite(a.lastStatus, a.lastAt, st, now, a.cfg.Thresholds)
	a.mu.Unlock()
	if !need {
		return nil
	}
	a.mu.Lock()
	for i := range st.Conditions {
		// A condition keeps the time it last changed status.
		st.Conditions[i].LastTransitionTime = metav1.NewTime(now)
		if a.lastStatus != nil {
			if prev := meta.FindStatusCondition(a.lastStatus.Conditions, st.Conditions[i].Type); prev != nil && prev.Status == st.Conditions[i].Status {
				st.Conditions[i].LastTransitionTime = prev.LastTransitionTime
			}
		}
	}
	a.mu.Unlock()
	if err := a.applyStatus(ctx, st); err != nil {
		if apierrors.IsNotFound(err) {
			ctrl.LoggerFrom(ctx).Info("The Dora Node does not exist yet; the manager creates it")
			return nil
		}
		return fmt.Errorf("writing the Dora Node status: %w", err)
	}
	a.mu.Lock()
	a.lastStatus, a.lastAt = &st, now
	a.mu.Unlock()
	return nil
}

// applyStatus applies the status with server-side apply under the agent's field manager, so
// the manager's own conditions on the same object are left alone.
func (a *Agent) applyStatus(ctx context.Context, st doradev1.NodeStatus) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	status := map[string]any{}
	if err := json.Unmarshal(raw, &status); err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": doradev1.GroupVersion.String(),
		"kind":       "Node",
		"metadata":   map[string]any{"name": a.cfg.NodeName},
		"status":     status,
	}}
	return a.client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(doradev1.FieldManagerAgent), client.ForceOwnership)
}

// syncLabels patches the node's labels when they differ from what the status implies.
func (a *Agent) syncLabels(ctx context.Context, node *corev1.Node, st doradev1.NodeStatus) error {
	want := report.NodeLabels(st, node.Labels, a.cfg.GFDLabels)
	patch := report.LabelPatch(node.Labels, want)
	if patch == nil {
		return nil
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": patch}})
	if err != nil {
		return err
	}
	if err := a.client.Patch(ctx, node, client.RawPatch(types.MergePatchType, body)); err != nil {
		return fmt.Errorf("labelling node %s: %w", node.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("Updated the node's GPU labels", "labels", patch)
	return nil
}

// renewLease creates or renews the agent's Lease, owned by the Node so that it goes with it.
func (a *Agent) renewLease(ctx context.Context, node *corev1.Node) error {
	now := metav1.NewMicroTime(a.clock.Now())
	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: a.cfg.Namespace, Name: doradev1.AgentLeasePrefix + a.cfg.NodeName}
	err := a.client.Get(ctx, key, lease)
	switch {
	case apierrors.IsNotFound(err):
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: key.Namespace, Name: key.Name,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}},
			},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(a.cfg.NodeName),
				LeaseDurationSeconds: ptr.To(int32(a.cfg.LeaseDuration.Seconds())),
				AcquireTime:          &now,
				RenewTime:            &now,
			},
		}
		if err := a.client.Create(ctx, lease); err != nil {
			return fmt.Errorf("creating lease %s: %w", key, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("reading lease %s: %w", key, err)
	}
	lease.Spec.RenewTime = &now
	lease.Spec.LeaseDurationSeconds = ptr.To(int32(a.cfg.LeaseDuration.Seconds()))
	if err := a.client.Update(ctx, lease); err != nil {
		return fmt.Errorf("renewing lease %s: %w", key, err)
	}
	return nil
}
