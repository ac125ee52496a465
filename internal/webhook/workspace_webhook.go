package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// WorkspaceValidatePath is where the Workspace validating webhook is served.
const WorkspaceValidatePath = "/validate-dora-dev-v1alpha1-workspace"

// +kubebuilder:webhook:path=/validate-dora-dev-v1alpha1-workspace,mutating=false,failurePolicy=fail,sideEffects=None,groups=dora.dev,resources=workspaces,verbs=create,versions=v1alpha1,name=vworkspace.dora.dev,admissionReviewVersions=v1

// WorkspaceValidator refuses a Workspace created to clone a workspace that does not exist or
// is being deleted, so that the mistake is reported by the create rather than later in the
// clone's status. Giving spec.cloneFrom after creation is refused by the CRD's own rules.
type WorkspaceValidator struct {
	// Reader reads the workspace to clone. A reader that goes to the API server rather than
	// to a cache sees a source created just before its clone.
	Reader client.Reader
}

// Handle implements admission.Handler.
func (v WorkspaceValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create {
		return admission.Allowed("")
	}
	var ws struct {
		Spec struct {
			CloneFrom string `json:"cloneFrom"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(req.Object.Raw, &ws); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decoding the workspace: %w", err))
	}
	source := ws.Spec.CloneFrom
	if source == "" {
		return admission.Allowed("")
	}
	src := &doradev1.Workspace{}
	err := v.Reader.Get(ctx, client.ObjectKey{Name: source}, src)
	switch {
	case apierrors.IsNotFound(err):
		return admission.Denied(fmt.Sprintf(
			"spec.cloneFrom: workspace %q does not exist; create the workspace to clone first, or check the name (kubectl get workspaces)", source))
	case err != nil:
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("reading workspace %q to clone: %w", source, err))
	case src.DeletionTimestamp != nil:
		return admission.Denied(fmt.Sprintf(
			"spec.cloneFrom: workspace %q is being deleted and cannot be cloned; clone another workspace, or wait until it is gone and create it again", source))
	}
	return admission.Allowed("")
}
