package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/authz"
)

// WorkloadValidatePath is where the Workload validating webhook is served.
const WorkloadValidatePath = "/validate-dora-dev-v1alpha1-workload"

// +kubebuilder:webhook:path=/validate-dora-dev-v1alpha1-workload,mutating=false,failurePolicy=fail,sideEffects=None,groups=dora.dev,resources=workloads,verbs=create;update,versions=v1alpha1,name=vworkload.dora.dev,admissionReviewVersions=v1

// WorkloadValidator refuses Workloads whose string-or-list fields have the wrong shape (it
// reads the raw object for that, because the typed decoding is lenient on purpose), whose
// environment selects devices, and writes their requester has no Dora verb for: flipping
// spec.paused (pause, resume) and mounting another workspace's volume (use).
type WorkloadValidator struct {
	Authorizer authz.Authorizer
}

// Handle implements admission.Handler.
func (v WorkloadValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	errs := ValidateWorkloadShapes(req.Object.Raw)
	if len(errs) == 0 {
		wl, old := &doradev1.Workload{}, (*doradev1.Workload)(nil)
		if err := json.Unmarshal(req.Object.Raw, wl); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("decoding the workload: %w", err))
		}
		if req.Operation == admissionv1.Update {
			old = &doradev1.Workload{}
			if err := json.Unmarshal(req.OldObject.Raw, old); err != nil {
				return admission.Errored(http.StatusBadRequest, fmt.Errorf("decoding the stored workload: %w", err))
			}
		}
		errs = deviceEnvErrors(wl)
		access, err := v.workloadAccess(ctx, req, wl, old)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		errs = append(errs, access...)
	}
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
