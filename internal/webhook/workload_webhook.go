package webhook

import (
	"context"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// WorkloadValidatePath is where the Workload validating webhook is served.
const WorkloadValidatePath = "/validate-dora-dev-v1alpha1-workload"

// +kubebuilder:webhook:path=/validate-dora-dev-v1alpha1-workload,mutating=false,failurePolicy=fail,sideEffects=None,groups=dora.dev,resources=workloads,verbs=create;update,versions=v1alpha1,name=vworkload.dora.dev,admissionReviewVersions=v1

// WorkloadValidator refuses Workloads whose string-or-list fields have the wrong shape. It
// reads the raw object, not a typed one, because the typed decoding is lenient on purpose.
type WorkloadValidator struct{}

// Handle implements admission.Handler.
func (WorkloadValidator) Handle(_ context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	errs := ValidateWorkloadShapes(req.Object.Raw)
	if len(errs) == 0 {
		return admission.Allowed("")
	}
	gk := schema.GroupKind{Group: doradev1.GroupVersion.Group, Kind: "Workload"}
	status := apierrors.NewInvalid(gk, req.Name, errs).ErrStatus
	status.Code = http.StatusUnprocessableEntity
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		UID:     req.UID,
		Allowed: false,
		Result:  &status,
	}}
}
