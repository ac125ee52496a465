package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// zoneRequest is an admission request for a Dora object whose dora.dev/zone annotation is
// zone (none when empty); for an update, oldZone is the stored object's annotation.
func zoneRequest(t *testing.T, op admissionv1.Operation, kind, namespace, name, zone, oldZone string) admission.Request {
	t.Helper()
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "uid-1",
		Operation: op,
		Kind:      metav1.GroupVersionKind{Group: "dora.dev", Version: "v1alpha1", Kind: kind},
		Namespace: namespace,
		Name:      name,
		Object:    runtime.RawExtension{Raw: objectWithZone(t, kind, namespace, name, zone)},
	}}
	if op == admissionv1.Update {
		req.OldObject = runtime.RawExtension{Raw: objectWithZone(t, kind, namespace, name, oldZone)}
	}
	return req
}

func objectWithZone(t *testing.T, kind, namespace, name, zone string) []byte {
	t.Helper()
	obj := map[string]any{
		"apiVersion": "dora.dev/v1alpha1",
		"kind":       kind,
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec":       map[string]any{"image": "ubuntu"},
	}
	if zone != "" {
		obj["metadata"].(map[string]any)["annotations"] = map[string]any{doradev1.AnnotationZone: zone}
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestZoneValidator(t *testing.T) {
	const here, there = "dc-rov-01", "dc-rov-02"
	cases := []struct {
		name        string
		managerZone string
		op          admissionv1.Operation
		kind        string
		namespace   string
		zone        string // the object's dora.dev/zone
		oldZone     string // the stored object's, for an update
		// want lists pieces of the refusal's message; empty: allowed.
		want []string
	}{
		{
			name:        "an object written for another zone is refused, naming both zones and what to do",
			managerZone: here, op: admissionv1.Create, kind: "Workload", namespace: "amedeo-setti", zone: there,
			want: []string{`Workload amedeo-setti/hello was written for zone "dc-rov-02", and this cluster is zone "dc-rov-01": ` +
				`apply it to zone dc-rov-02's cluster (kubectl dora --zone dc-rov-02 apply), or change metadata.zone`},
		},
		{
			name:        "a cluster-scoped object is named without a namespace",
			managerZone: here, op: admissionv1.Create, kind: "Storage", zone: there,
			want: []string{`Storage hello was written for zone "dc-rov-02"`},
		},
		{
			name:        "an update that moves an object to another zone is refused",
			managerZone: here, op: admissionv1.Update, kind: "Volume", namespace: "amedeo-setti", zone: there, oldZone: here,
			want: []string{`Volume amedeo-setti/hello was written for zone "dc-rov-02"`},
		},
		{
			name:        "an update that gives a foreign zone to an object without one is refused",
			managerZone: here, op: admissionv1.Update, kind: "Workload", namespace: "amedeo-setti", zone: there,
			want: []string{`zone "dc-rov-02"`},
		},
		{
			name:        "an object written for this zone is allowed",
			managerZone: here, op: admissionv1.Create, kind: "Workload", namespace: "amedeo-setti", zone: here,
		},
		{
			name:        "an object without a zone is allowed",
			managerZone: here, op: admissionv1.Create, kind: "Workload", namespace: "amedeo-setti",
		},
		{
			name:        "an object for zone All is allowed",
			managerZone: here, op: admissionv1.Create, kind: "User", zone: doradev1.All,
		},
		{
			name:        "a manager not told its zone allows any zone",
			managerZone: "", op: admissionv1.Create, kind: "Workload", namespace: "amedeo-setti", zone: there,
		},
		{
			name:        "an update that keeps a stored object's foreign zone is allowed, so its finalizers can be removed",
			managerZone: here, op: admissionv1.Update, kind: "Workload", namespace: "amedeo-setti", zone: there, oldZone: there,
		},
		{
			name:        "a delete is not checked",
			managerZone: here, op: admissionv1.Delete, kind: "Workload", namespace: "amedeo-setti", zone: there,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := ZoneValidator{Zone: tc.managerZone}
			resp := v.Handle(context.Background(), zoneRequest(t, tc.op, tc.kind, tc.namespace, "hello", tc.zone, tc.oldZone))
			expectVerdict(t, resp, tc.want)
		})
	}
}

func TestZoneValidatorRejectsUndecodableObject(t *testing.T) {
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: []byte(`not json`)},
	}}
	resp := ZoneValidator{Zone: "dc-rov-01"}.Handle(context.Background(), req)
	if resp.Allowed || resp.Result.Code != http.StatusBadRequest {
		t.Fatalf("allowed=%v code=%d, want refused with %d", resp.Allowed, resp.Result.Code, http.StatusBadRequest)
	}
}

// expectVerdict checks an admission response: allowed when want is empty, else refused as
// Forbidden with a message holding every piece of want.
func expectVerdict(t *testing.T, resp admission.Response, want []string) {
	t.Helper()
	if len(want) == 0 {
		if !resp.Allowed {
			t.Fatalf("refused: %s", resp.Result.Message)
		}
		return
	}
	if resp.Allowed {
		t.Fatal("allowed, want refused")
	}
	if resp.Result.Code != http.StatusForbidden {
		t.Errorf("code = %d, want %d", resp.Result.Code, http.StatusForbidden)
	}
	for _, piece := range want {
		if !strings.Contains(resp.Result.Message, piece) {
			t.Errorf("message %q does not contain %q", resp.Result.Message, piece)
		}
	}
}

// Workloads and Workspaces are checked for their zone by their own validators (one
// validating call each): another zone's is refused there with the zone webhook's words.
func TestWorkloadAndWorkspaceValidatorsCheckTheZone(t *testing.T) {
	const here, there = "dc-rov-01", "dc-rov-02"
	want := []string{`was written for zone "dc-rov-02", and this cluster is zone "dc-rov-01"`}
	workload := zoneRequest(t, admissionv1.Create, "Workload", "amedeo-setti", "hello", there, "")
	workload.Object.Raw = []byte(`{"apiVersion":"dora.dev/v1alpha1","kind":"Workload","metadata":{"name":"hello","namespace":"amedeo-setti","annotations":{"dora.dev/zone":"` + there + `"}},"spec":{"image":{"image":"ubuntu"}}}`)
	expectVerdict(t, WorkloadValidator{Zone: here, Authorizer: grants{}}.Handle(context.Background(), workload), want)
	workspace := zoneRequest(t, admissionv1.Create, "Workspace", "", "team", there, "")
	workspace.Object.Raw = []byte(`{"apiVersion":"dora.dev/v1alpha1","kind":"Workspace","metadata":{"name":"team","annotations":{"dora.dev/zone":"` + there + `"}}}`)
	expectVerdict(t, WorkspaceValidator{Zone: here, Reader: workspaces(t), Authorizer: grants{}}.Handle(context.Background(), workspace), want)
	// Their own zone passes on to the rest of the checks.
	workload.Object.Raw = []byte(`{"apiVersion":"dora.dev/v1alpha1","kind":"Workload","metadata":{"name":"hello","namespace":"amedeo-setti","annotations":{"dora.dev/zone":"` + here + `"}},"spec":{"image":{"image":"ubuntu"}}}`)
	expectVerdict(t, WorkloadValidator{Zone: here, Authorizer: grants{}}.Handle(context.Background(), workload), nil)
}
