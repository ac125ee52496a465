package node

import (
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// DefaultLeaseGrace is how long past its lease's duration an agent still counts as reporting,
// so that a renewal a few seconds late (a busy API server, a slow node) does not flap Ready.
const DefaultLeaseGrace = 40 * time.Second

// readiness computes a node's Ready condition from its agent's lease (nil when there is
// none). While the lease is fresh it also returns how long until it goes stale, so that the
// caller looks again exactly then instead of polling.
//
// Messages name times, never ages such as "12s ago": an age changes on every reconcile and
// would make each one a status write.
func readiness(nodeName, agentNamespace string, lease *coordinationv1.Lease, now time.Time, grace time.Duration) (metav1.Condition, time.Duration) {
	leaseRef := agentNamespace + "/" + doradev1.AgentLeasePrefix + nodeName
	cond := metav1.Condition{Type: doradev1.ConditionReady}
	if lease == nil {
		cond.Status, cond.Reason = metav1.ConditionUnknown, doradev1.ReasonAgentNotFound
		cond.Message = fmt.Sprintf("no agent lease %s: the dora-node-agent DaemonSet must run on node %s", leaseRef, nodeName)
		return cond, 0
	}

	renewed := lastRenewal(lease)
	if renewed.IsZero() {
		cond.Status, cond.Reason = metav1.ConditionFalse, doradev1.ReasonAgentLeaseExpired
		cond.Message = fmt.Sprintf("the agent on node %s created its lease %s but never renewed it", nodeName, leaseRef)
		return cond, 0
	}
	var duration time.Duration
	if lease.Spec.LeaseDurationSeconds != nil {
		duration = time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	}
	staleAt := renewed.Add(duration + grace)
	if now.Before(staleAt) {
		cond.Status, cond.Reason = metav1.ConditionTrue, doradev1.ReasonAgentReporting
		cond.Message = fmt.Sprintf("the agent on node %s renews its lease %s", nodeName, leaseRef)
		return cond, staleAt.Sub(now)
	}
	cond.Status, cond.Reason = metav1.ConditionFalse, doradev1.ReasonAgentLeaseExpired
	cond.Message = fmt.Sprintf("the agent on node %s last renewed its lease %s at %s, more than %s ago (lease duration %s plus %s grace); "+
		"check the dora-node-agent pod on that node", nodeName, leaseRef, renewed.UTC().Format(time.RFC3339), duration+grace, duration, grace)
	return cond, 0
}

// lastRenewal is when the lease holder last said it was alive: its renewTime, or its
// acquireTime when it has not renewed since acquiring the lease.
func lastRenewal(lease *coordinationv1.Lease) time.Time {
	switch {
	case lease.Spec.RenewTime != nil:
		return lease.Spec.RenewTime.Time
	case lease.Spec.AcquireTime != nil:
		return lease.Spec.AcquireTime.Time
	default:
		return time.Time{}
	}
}
