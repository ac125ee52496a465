package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// workspaceRequest is an admission request for the Workspace "copy" cloning cloneFrom (no
// clone when empty).
func workspaceRequest(t *testing.T, op admissionv1.Operation, cloneFrom string) admission.Request {
	t.Helper()
	ws := &doradev1.Workspace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "dora.dev/v1alpha1", Kind: "Workspace"},
		ObjectMeta: metav1.ObjectMeta{Name: "copy"},
		Spec:       doradev1.WorkspaceSpec{CloneFrom: cloneFrom},
	}
	raw, err := json.Marshal(ws)
	if err != nil {
		t.Fatal(err)
	}
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "uid-1",
		Operation: op,
		Kind:      metav1.GroupVersionKind{Group: "dora.dev", Version: "v1alpha1", Kind: "Workspace"},
		Name:      "copy",
		Object:    runtime.RawExtension{Raw: raw},
	}}
	if op == admissionv1.Update {
		req.OldObject = runtime.RawExtension{Raw: raw}
	}
	return req
}

// workspaces is a reader holding the given workspaces.
func workspaces(t *testing.T, objs ...client.Object) client.Reader {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := doradev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

func TestWorkspaceValidator(t *testing.T) {
	source := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "amedeo.setti"}}
	terminating := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{
		Name:              "old.project",
		DeletionTimestamp: &metav1.Time{Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		Finalizers:        []string{doradev1.FinalizerWorkspace},
	}}
	cases := []struct {
		name      string
		existing  []client.Object
		op        admissionv1.Operation
		cloneFrom string
		// want lists pieces of the refusal's message; empty: allowed.
		want []string
	}{
		{
			name: "cloning a workspace that does not exist is refused, naming the field and the workspace",
			op:   admissionv1.Create, cloneFrom: "nobody",
			want: []string{"spec.cloneFrom", `workspace "nobody" does not exist`, "kubectl get workspaces"},
		},
		{
			name:     "cloning a workspace that is being deleted is refused",
			existing: []client.Object{terminating},
			op:       admissionv1.Create, cloneFrom: "old.project",
			want: []string{"spec.cloneFrom", `workspace "old.project" is being deleted`},
		},
		{
			name:     "cloning an existing workspace is allowed",
			existing: []client.Object{source},
			op:       admissionv1.Create, cloneFrom: "amedeo.setti",
		},
		{
			name: "a workspace that clones nothing is allowed",
			op:   admissionv1.Create,
		},
		{
			name: "an update is not checked, even if its source is gone",
			op:   admissionv1.Update, cloneFrom: "nobody",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := WorkspaceValidator{Reader: workspaces(t, tc.existing...), Authorizer: grants{}.allowAll()}
			resp := v.Handle(context.Background(), workspaceRequest(t, tc.op, tc.cloneFrom))
			expectVerdict(t, resp, tc.want)
		})
	}
}

func TestWorkspaceValidatorReportsReadErrors(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := doradev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	broken := fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return errors.New("connection refused")
		},
	}).Build()
	resp := WorkspaceValidator{Reader: broken, Authorizer: grants{}.allowAll()}.Handle(context.Background(), workspaceRequest(t, admissionv1.Create, "amedeo.setti"))
	if resp.Allowed {
		t.Fatal("allowed, want an error")
	}
	if resp.Result.Code != http.StatusInternalServerError || !strings.Contains(resp.Result.Message, "connection refused") {
		t.Fatalf("code=%d message=%q, want %d and the read error", resp.Result.Code, resp.Result.Message, http.StatusInternalServerError)
	}
}
