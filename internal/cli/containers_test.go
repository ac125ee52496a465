package cli

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var now = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

type podBuilder struct{ pod corev1.Pod }

func workloadPod(workload string, replica string) *podBuilder {
	return &podBuilder{pod: corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: workload + "-" + replica, Namespace: "amedeo-setti", CreationTimestamp: metav1.NewTime(now.Add(-5 * time.Minute)),
			Labels:      map[string]string{"dora.dev/workload": workload, "dora.dev/replica": replica, LabelRevision: "abc123"},
			Annotations: map[string]string{AnnotationWorkload: workload},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: ContainerName, Image: "ubuntu"}}},
	}}
}

func (b *podBuilder) gpus(n int64) *podBuilder {
	b.pod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{ResourceGPU: *resource.NewQuantity(n, resource.DecimalSI)}
	return b
}

func (b *podBuilder) on(node string) *podBuilder { b.pod.Spec.NodeName = node; return b }

func (b *podBuilder) state(s corev1.ContainerState) *podBuilder {
	b.pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName, State: s}}
	return b
}

func (b *podBuilder) unschedulable(reason string) *podBuilder {
	b.pod.Status.Phase = corev1.PodPending
	b.pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: reason}}
	return b
}

func TestAContainerIsItsWorkloadReplicaNodeGPUsStateAndReason(t *testing.T) {
	deleted := metav1.NewTime(now)
	cases := map[string]struct {
		pod            *corev1.Pod
		state, reason  string
		replica, gpus  int
		workload, node string
	}{
		"running": {pod: &workloadPod("blue.red", "1").gpus(2).on("v100-0").state(corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}).pod,
			state: "Running", replica: 1, gpus: 2, workload: "blue.red", node: "v100-0"},
		"waiting for an image": {pod: &workloadPod("blue.red", "0").on("v100-0").state(corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}).pod,
			state: "Waiting", reason: "ImagePullBackOff", workload: "blue.red", node: "v100-0"},
		"waiting for a node": {pod: &workloadPod("big", "0").gpus(8).unschedulable("Unschedulable").pod,
			state: "Waiting", reason: "Unschedulable", gpus: 8, workload: "big"},
		"finished": {pod: &workloadPod("job", "0").state(corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}).pod,
			state: "Terminated", reason: "Completed", workload: "job"},
		"failed without a reason": {pod: &workloadPod("job", "0").state(corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3}}).pod,
			state: "Terminated", reason: "ExitCode 3", workload: "job"},
		"being deleted": {pod: func() *corev1.Pod {
			p := workloadPod("blue.red", "0").pod
			p.DeletionTimestamp = &deleted
			return &p
		}(), state: "Terminating", workload: "blue.red"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := Container(tc.pod)
			got := []any{c.State, c.Reason, c.Replica, int(c.GPUs), c.Workload, c.Node}
			want := []any{tc.state, tc.reason, tc.replica, tc.gpus, tc.workload, tc.node}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTheContainerTableHasDorasColumnsSortedByWorkloadAndReplica(t *testing.T) {
	pods := []corev1.Pod{
		workloadPod("blue.red", "1").gpus(2).on("rtx6000-0").state(corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}).pod,
		workloadPod("blue.red", "0").gpus(2).unschedulable("Unschedulable").pod,
		workloadPod("a.first", "0").on("cpu-0").state(corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}).pod,
	}
	var out bytes.Buffer
	if err := PrintTable(&out, ContainerTable(pods, now), false, false); err != nil {
		t.Fatal(err)
	}
	want := `NAME         WORKLOAD   REPLICA   NODE        GPUS   STATE     REASON          AGE
a.first-0    a.first    0         cpu-0       0      Running   <none>          5m
blue.red-0   blue.red   0         <none>      2      Waiting   Unschedulable   5m
blue.red-1   blue.red   1         rtx6000-0   2      Running   <none>          5m
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	out.Reset()
	if err := PrintTable(&out, ContainerTable(pods[:1], now), true, true); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("blue.red-1   blue.red   1     rtx6000-0   2     Running   <none>   5m    abc123   <none>   ubuntu\n", out.String()); diff != "" {
		t.Errorf("wide, no headers (-want +got):\n%s", diff)
	}
}

func TestTablesOfSeveralZonesGetAZoneColumnAndANamespaceColumn(t *testing.T) {
	table := func(names ...string) *metav1.Table {
		t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{{Name: "Name", Type: "string"}, {Name: "Zone", Type: "string"}}}
		for _, n := range names {
			t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{n, "dc-rov-01"}, Object: rowObject(metav1.ObjectMeta{Name: n, Namespace: "ns-" + n})})
		}
		return t
	}
	a, b := table("a"), table("b", "c")
	decorate(a, "zone-a", true)
	decorate(b, "zone-b", true)
	var out bytes.Buffer
	if err := PrintTable(&out, mergeTables([]*metav1.Table{a, b}), false, false); err != nil {
		t.Fatal(err)
	}
	want := `ZONE     NAMESPACE   NAME   DEFAULT ZONE
zone-a   ns-a        a      dc-rov-01
zone-b   ns-b        b      dc-rov-01
zone-b   ns-c        c      dc-rov-01
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestResourcePathsAreTheAPIServersOwn(t *testing.T) {
	wk, _ := LookupKind("wk")
	cases := map[string]string{
		resourcePath(wk.Resource, "amedeo-setti", ""):         "/apis/dora.dev/v1alpha1/namespaces/amedeo-setti/workloads",
		resourcePath(wk.Resource, "amedeo-setti", "blue.red"): "/apis/dora.dev/v1alpha1/namespaces/amedeo-setti/workloads/blue.red",
		resourcePath(wk.Resource, "", ""):                     "/apis/dora.dev/v1alpha1/workloads",
		resourcePath(KindContainer().Resource, "ns", "p"):     "/api/v1/namespaces/ns/pods/p",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestDecodeTableReadsTheRowsObjects(t *testing.T) {
	raw := []byte(`{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"42"},
		"columnDefinitions":[{"name":"Name","type":"string","format":"name","description":"","priority":0}],
		"rows":[{"cells":["blue.red"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"blue.red","namespace":"amedeo-setti","resourceVersion":"41"}}}]}`)
	tab, err := decodeTable(raw)
	if err != nil {
		t.Fatal(err)
	}
	if tab.ResourceVersion != "42" || rowMeta(tab.Rows[0]).GetNamespace() != "amedeo-setti" || rowMeta(tab.Rows[0]).GetResourceVersion() != "41" {
		t.Errorf("read %+v", tab)
	}
	if _, err := decodeTable([]byte(`{"kind":"WorkloadList"}`)); err == nil {
		t.Error("a list that is no Table is an error")
	}
	forbidden := statusError([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"workloads.dora.dev is forbidden: User \"u\" cannot list","reason":"Forbidden","code":403}`), nil)
	if forbidden == nil || forbidden.Error() != `workloads.dora.dev is forbidden: User "u" cannot list` {
		t.Errorf("the server's Status is the error: %v", forbidden)
	}
}
