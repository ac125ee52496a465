package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
	// Credits reads UserCredits (the manager's cache), to warn about a new GPU workload of a
	// user whose credits in Zone are spent or nearly so; nil warns of nothing.
	Credits client.Reader
	// Zone is this cluster's zone: a workload written for another is refused here too, so
	// that creating one costs one validating call, not two (the zone webhook leaves
	// workloads out).
	Zone string
}

// Handle implements admission.Handler.
func (v WorkloadValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	if resp := (ZoneValidator{Zone: v.Zone}).Handle(ctx, req); !resp.Allowed {
		return resp
	}
	if errs := ValidateWorkloadShapes(req.Object.Raw); len(errs) > 0 {
		return refuse(req, errs)
	}
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
	errs := deviceEnvErrors(wl)
	access, err := v.workloadAccess(ctx, req, wl, old)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if errs = append(errs, access...); len(errs) > 0 {
		return refuse(req, errs)
	}
	resp := admission.Allowed("")
	if req.Operation == admissionv1.Create {
		resp = resp.WithWarnings(creditWarnings(ctx, v.Credits, v.Zone, wl)...)
	}
	return resp
}

// refuse answers a Workload write with its field errors, as the API server's own
// validation would (422 Invalid).
func refuse(req admission.Request, errs field.ErrorList) admission.Response {
	gk := schema.GroupKind{Group: doradev1.GroupVersion.Group, Kind: "Workload"}
	status := apierrors.NewInvalid(gk, req.Name, errs).ErrStatus
	status.Code = http.StatusUnprocessableEntity
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		UID:     req.UID,
		Allowed: false,
		Result:  &status,
	}}
}
