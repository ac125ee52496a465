package manager

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The cache keeps what the controllers read of a pod and drops its spec.
func TestTrimPod(t *testing.T) {
	now := metav1.NewTime(time.Now())
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "w-0", Namespace: "ns", UID: "u", DeletionTimestamp: &now,
			Labels: map[string]string{"dora.dev/workload": "w"}, OwnerReferences: []metav1.OwnerReference{{Name: "w"}},
			Annotations: map[string]string{"big": "x", "dora.dev/owner": "amedeo"}, Finalizers: []string{"dora.dev/credits"}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "workload", Image: "ubuntu", Env: []corev1.EnvVar{{Name: "A"}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("2"), "memory": resource.MustParse("1Gi")},
				Requests: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("2"), "cpu": resource.MustParse("1500m"), "memory": resource.MustParse("1Gi")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Reason: "r", Conditions: []corev1.PodCondition{
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionTrue},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue}, {Type: corev1.PodScheduled, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "workload", Image: "ubuntu", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
	}
	out, err := trimPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.Pod)
	if got.Name != "w-0" || got.UID != "u" || got.DeletionTimestamp == nil || got.Labels["dora.dev/workload"] != "w" || len(got.OwnerReferences) != 1 {
		t.Errorf("identity lost: %+v", got.ObjectMeta)
	}
	if got.Spec.NodeName != "n1" || got.Status.Phase != corev1.PodRunning || len(got.Status.Conditions) != 2 || got.Status.Conditions[0].Type != corev1.PodReady || got.Status.Conditions[1].Type != corev1.PodScheduled || got.Status.ContainerStatuses[0].State.Running == nil {
		t.Errorf("what the controller reads was lost: %+v", got)
	}
	if got.Annotations["dora.dev/owner"] != "amedeo" || len(got.Finalizers) != 1 || len(got.Spec.Containers) != 1 ||
		got.Spec.Containers[0].Resources.Limits.Name("nvidia.com/gpu", resource.DecimalSI).Value() != 2 {
		t.Errorf("what the credit controller reads was lost: %+v", got)
	}
	if len(got.Annotations) != 1 || got.Spec.Containers[0].Image != "" || len(got.Spec.Containers[0].Resources.Limits) != 1 || len(got.Spec.Containers[0].Resources.Requests) != 0 || got.Status.ContainerStatuses[0].Image != "" {
		t.Errorf("the bulk was kept: %+v", got)
	}
	// A pod without GPUs keeps its CPUs instead: priced cores are charged from them.
	cpuPod := pod.DeepCopy()
	cpuPod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"memory": resource.MustParse("1Gi")}
	delete(cpuPod.Spec.Containers[0].Resources.Requests, "nvidia.com/gpu")
	out, err = trimPod(cpuPod)
	if err != nil {
		t.Fatal(err)
	}
	if res := out.(*corev1.Pod).Spec.Containers[0].Resources; res.Requests.Cpu().MilliValue() != 1500 || len(res.Requests) != 1 || len(res.Limits) != 0 {
		t.Errorf("a CPU pod's resources: %+v, want its CPU request alone", res)
	}
	// With a CPU limit, the limit alone: it is what is charged.
	cpuPod.Spec.Containers[0].Resources.Limits["cpu"] = resource.MustParse("3")
	out, err = trimPod(cpuPod)
	if err != nil {
		t.Fatal(err)
	}
	if res := out.(*corev1.Pod).Spec.Containers[0].Resources; res.Limits.Cpu().Value() != 3 || len(res.Limits) != 1 || len(res.Requests) != 0 {
		t.Errorf("a CPU pod with a limit: %+v, want its CPU limit alone", res)
	}
	if other, _ := trimPod("not a pod"); other != "not a pod" {
		t.Error("other objects must pass through")
	}
}

// Pods alike share what they hold alike: the cache keeps one map of a GPU limit and one
// owner annotation for all of them, and their own names and states apart.
func TestTrimmedPodsShare(t *testing.T) {
	pod := func(name string, gpus string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Annotations: map[string]string{"dora.dev/owner": "amedeo"},
				Labels: map[string]string{"dora.dev/workload": "w", "dora.dev/replica": name}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "workload",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse(gpus)}}}}},
		}
	}
	trim := func(p *corev1.Pod) *corev1.Pod {
		out, err := trimPod(p)
		if err != nil {
			t.Fatal(err)
		}
		return out.(*corev1.Pod)
	}
	a, b, c := trim(pod("w-0", "1")), trim(pod("w-1", "1")), trim(pod("w-2", "2"))
	same := func(x, y any) bool { return reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer() }
	if !same(a.Spec.Containers[0].Resources.Limits, b.Spec.Containers[0].Resources.Limits) || !same(a.Annotations, b.Annotations) {
		t.Error("two pods of one GPU and one owner keep their own copies")
	}
	if same(a.Spec.Containers[0].Resources.Limits, c.Spec.Containers[0].Resources.Limits) || c.Spec.Containers[0].Resources.Limits.Name("nvidia.com/gpu", resource.DecimalSI).Value() != 2 {
		t.Errorf("a pod of two GPUs shares the list of one: %v", c.Spec.Containers[0].Resources.Limits)
	}
	if same(a.Labels, b.Labels) || a.Labels["dora.dev/replica"] != "w-0" || b.Labels["dora.dev/replica"] != "w-1" {
		t.Errorf("labels must stay each pod's own: %v %v", a.Labels, b.Labels)
	}
	// A reader's copy is its own: changing it leaves the shared values alone.
	copied := a.DeepCopy()
	copied.Annotations["dora.dev/owner"] = "mallory"
	copied.Spec.Containers[0].Resources.Limits["nvidia.com/gpu"] = resource.MustParse("8")
	if b.Annotations["dora.dev/owner"] != "amedeo" || b.Spec.Containers[0].Resources.Limits.Name("nvidia.com/gpu", resource.DecimalSI).Value() != 1 {
		t.Error("a deep copy changed the values pods share")
	}
}
