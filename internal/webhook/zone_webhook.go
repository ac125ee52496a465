package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// ZoneValidatePath is where the zone validating webhook is served.
const ZoneValidatePath = "/validate-dora-dev-v1alpha1-zone"

// Zones are left out of the rules on purpose: a Zone object describes a zone, often another
// one. Workloads and Workspaces are too: their own validating webhooks check the zone, so
// that each costs one validating call. Creation fails closed; updates fail open, so that an
// administrator can still remove a finalizer while the manager is down.
// +kubebuilder:webhook:path=/validate-dora-dev-v1alpha1-zone,mutating=false,failurePolicy=fail,sideEffects=None,groups=dora.dev,resources=volumes;storages;nodes;users;roles;resourcecredits;usercredits,verbs=create,versions=v1alpha1,name=zone.dora.dev,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-dora-dev-v1alpha1-zone,mutating=false,failurePolicy=ignore,sideEffects=None,groups=dora.dev,resources=volumes;storages;nodes;users;roles;resourcecredits;usercredits,verbs=update,versions=v1alpha1,name=zone-update.dora.dev,admissionReviewVersions=v1

// ZoneValidator refuses Dora objects written for another zone: those whose dora.dev/zone
// annotation (set from a Dora document's metadata.zone) names a zone other than this
// cluster's. An object without the annotation, or with the zone All, is accepted, and so is
// everything when Zone is empty (the manager was not told its zone).
//
// On update only a change of the annotation is checked, so that an object stored before the
// check existed can still be updated, and its finalizers removed.
//
// It decodes only the object's metadata, so it serves every Dora kind.
type ZoneValidator struct {
	// Zone is the zone this cluster is.
	Zone string
}

// Handle implements admission.Handler.
func (v ZoneValidator) Handle(_ context.Context, req admission.Request) admission.Response {
	if v.Zone == "" {
		return admission.Allowed("")
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	obj, err := decodeMetadata(req.Object.Raw)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	zone := obj.Annotations[doradev1.AnnotationZone]
	if zone == "" || zone == doradev1.All || zone == v.Zone {
		return admission.Allowed("")
	}
	if req.Operation == admissionv1.Update {
		old, err := decodeMetadata(req.OldObject.Raw)
		if err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if old.Annotations[doradev1.AnnotationZone] == zone {
			return admission.Allowed("")
		}
	}
	return admission.Denied(fmt.Sprintf(
		"%s %s was written for zone %q, and this cluster is zone %q: apply it to zone %s's cluster (kubectl dora --zone %s apply), or change metadata.zone",
		kindOf(req, obj), objectRef(req, obj), zone, v.Zone, zone, zone))
}

// decodeMetadata reads the type and object metadata of an object given as JSON.
func decodeMetadata(raw []byte) (*metav1.PartialObjectMetadata, error) {
	obj := &metav1.PartialObjectMetadata{}
	if err := json.Unmarshal(raw, obj); err != nil {
		return nil, fmt.Errorf("decoding the object's metadata: %w", err)
	}
	return obj, nil
}

// kindOf is the object's kind, as the request names it.
func kindOf(req admission.Request, obj *metav1.PartialObjectMetadata) string {
	if req.Kind.Kind != "" {
		return req.Kind.Kind
	}
	return obj.Kind
}

// objectRef is namespace/name for a namespaced object, and name for a cluster-scoped one.
func objectRef(req admission.Request, obj *metav1.PartialObjectMetadata) string {
	name := obj.Name
	if name == "" {
		name = req.Name
	}
	if name == "" {
		name = obj.GenerateName + "*"
	}
	namespace := obj.Namespace
	if namespace == "" {
		namespace = req.Namespace
	}
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
