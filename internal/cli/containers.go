package cli

import (
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Names the manager gives its pods, mirrored here because the plugin does not import the
// manager's packages (internal/podspec).
const (
	// LabelRevision is the pod-template hash a pod (and a ControllerRevision) was made from.
	LabelRevision = "dora.dev/revision"
	// AnnotationWorkload is the workload's full name on its pods, for when the
	// dora.dev/workload label had to be shortened.
	AnnotationWorkload = "dora.dev/workload"
	// ContainerName is the one container of every workload pod.
	ContainerName = "workload"
	// ResourceGPU is the extended resource of NVIDIA GPUs.
	ResourceGPU corev1.ResourceName = "nvidia.com/gpu"
)

// ContainerInfo is a workload pod as Dora's Container: which workload and replica, where,
// with how many GPUs, in what state and why.
type ContainerInfo struct {
	Name, Namespace, Workload string
	Replica                   int
	Node                      string
	GPUs                      int64
	State, Reason             string
	Revision, Image, IP       string
	Created                   time.Time
}

// WorkloadOfPod is the name of the workload a pod belongs to.
func WorkloadOfPod(pod *corev1.Pod) string {
	if name := pod.Annotations[AnnotationWorkload]; name != "" {
		return name
	}
	return pod.Labels[doradev1.LabelWorkload]
}

// Container reads a workload pod as a Container.
func Container(pod *corev1.Pod) ContainerInfo {
	c := ContainerInfo{
		Name: pod.Name, Namespace: pod.Namespace, Workload: WorkloadOfPod(pod),
		Node: pod.Spec.NodeName, Revision: pod.Labels[LabelRevision], IP: pod.Status.PodIP,
		Created: pod.CreationTimestamp.Time, Replica: -1,
	}
	if r, err := strconv.Atoi(pod.Labels[doradev1.LabelReplica]); err == nil {
		c.Replica = r
	}
	for _, ctr := range pod.Spec.Containers {
		if ctr.Name == ContainerName || len(pod.Spec.Containers) == 1 {
			c.Image = ctr.Image
			if q, ok := ctr.Resources.Limits[ResourceGPU]; ok {
				c.GPUs = q.Value()
			}
		}
	}
	c.State, c.Reason = containerState(pod)
	return c
}

// containerState is Dora's state of a pod (Waiting, Running, Terminated, Terminating) and
// the reason, the scheduler's when it waits for a node.
func containerState(pod *corev1.Pod) (string, string) {
	if pod.DeletionTimestamp != nil {
		return "Terminating", ""
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != ContainerName && len(pod.Status.ContainerStatuses) > 1 {
			continue
		}
		switch {
		case cs.State.Running != nil:
			return string(doradev1.ContainerRunning), ""
		case cs.State.Terminated != nil:
			reason := cs.State.Terminated.Reason
			if reason == "" {
				reason = "ExitCode " + strconv.Itoa(int(cs.State.Terminated.ExitCode))
			}
			return string(doradev1.ContainerTerminated), reason
		case cs.State.Waiting != nil:
			return string(doradev1.ContainerWaiting), cs.State.Waiting.Reason
		}
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return string(doradev1.ContainerTerminated), "Completed"
	case corev1.PodFailed:
		return string(doradev1.ContainerTerminated), pod.Status.Reason
	}
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse {
			return string(doradev1.ContainerWaiting), cond.Reason
		}
	}
	return string(doradev1.ContainerWaiting), pod.Status.Reason
}

// ContainerTable is the table of get containers: NAME, WORKLOAD, REPLICA, NODE, GPUS,
// STATE, REASON, AGE; wide adds REVISION, IP and IMAGE. Rows are sorted by workload and
// replica.
func ContainerTable(pods []corev1.Pod, now time.Time) *metav1.Table {
	infos := make([]ContainerInfo, 0, len(pods))
	metas := map[string]metav1.ObjectMeta{}
	for i := range pods {
		infos = append(infos, Container(&pods[i]))
		metas[pods[i].Namespace+"/"+pods[i].Name] = pods[i].ObjectMeta
	}
	sort.SliceStable(infos, func(i, j int) bool {
		if infos[i].Namespace != infos[j].Namespace {
			return infos[i].Namespace < infos[j].Namespace
		}
		if infos[i].Workload != infos[j].Workload {
			return infos[i].Workload < infos[j].Workload
		}
		return infos[i].Replica < infos[j].Replica
	})
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string"}, {Name: "Workload", Type: "string"}, {Name: "Replica", Type: "integer"},
		{Name: "Node", Type: "string"}, {Name: "GPUs", Type: "integer"}, {Name: "State", Type: "string"},
		{Name: "Reason", Type: "string"}, {Name: "Age", Type: "string"},
		{Name: "Revision", Type: "string", Priority: 1}, {Name: "IP", Type: "string", Priority: 1}, {Name: "Image", Type: "string", Priority: 1},
	}}
	for _, c := range infos {
		replica := "?"
		if c.Replica >= 0 {
			replica = strconv.Itoa(c.Replica)
		}
		meta := metas[c.Namespace+"/"+c.Name]
		t.Rows = append(t.Rows, metav1.TableRow{
			Cells:  []any{c.Name, c.Workload, replica, orNone(c.Node), c.GPUs, c.State, orNone(c.Reason), Age(c.Created, now), orNone(c.Revision), orNone(c.IP), c.Image},
			Object: rowObject(meta),
		})
	}
	return t
}

// rowObject is a table row's object: the metadata, as the API server's tables carry it.
func rowObject(meta metav1.ObjectMeta) runtime.RawExtension {
	return runtime.RawExtension{Object: &metav1.PartialObjectMetadata{ObjectMeta: meta}}
}

// Age is how long ago t was, as kubectl shows it (5m, 3h, 2d); <unknown> for no time.
func Age(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
