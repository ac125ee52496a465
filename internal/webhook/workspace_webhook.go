package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/authz"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// WorkspaceValidatePath is where the Workspace validating webhook is served.
const WorkspaceValidatePath = "/validate-dora-dev-v1alpha1-workspace"

// +kubebuilder:webhook:path=/validate-dora-dev-v1alpha1-workspace,mutating=false,failurePolicy=fail,sideEffects=None,groups=dora.dev,resources=workspaces,verbs=create;update,versions=v1alpha1,name=vworkspace.dora.dev,admissionReviewVersions=v1

// WorkspaceValidator refuses a Workspace created to clone a workspace that does not exist or
// is being deleted, so that the mistake is reported by the create rather than later in the
// clone's status (giving spec.cloneFrom after creation is refused by the CRD's own rules),
// and writes their requester has no right to: cloning needs the Dora verb Clone on the
// source (and Download on its volumes for copyData); allowing host networking is an
// administrator's, and so is any Pod Security level but the default (who may create Dora
// Roles).
type WorkspaceValidator struct {
	// Reader reads the workspace to clone. A reader that goes to the API server rather than
	// to a cache sees a source created just before its clone.
	Reader     client.Reader
	Authorizer authz.Authorizer
	// Zone is this cluster's zone: a workspace written for another is refused here too (one
	// validating call per workspace; the zone webhook leaves workspaces out).
	Zone string
}

// Handle implements admission.Handler.
func (v WorkspaceValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	if resp := (ZoneValidator{Zone: v.Zone}).Handle(ctx, req); !resp.Allowed {
		return resp
	}
	ws, old := &doradev1.Workspace{}, &doradev1.Workspace{}
	if err := json.Unmarshal(req.Object.Raw, ws); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decoding the workspace: %w", err))
	}
	if req.Operation == admissionv1.Update {
		if err := json.Unmarshal(req.OldObject.Raw, old); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("decoding the stored workspace: %w", err))
		}
	}
	if ws.Spec.AllowHostNetwork && !old.Spec.AllowHostNetwork {
		ok, err := v.isAdministrator(ctx, req)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if !ok {
			return admission.Denied(fmt.Sprintf("spec.allowHostNetwork: %s may not let workspace %s use host networking: that is an administrator's choice "+
				"(one who may create Dora Roles); leave it false, or ask an administrator", req.UserInfo.Username, ws.Name))
		}
	}
	if level, was := podSecurityOf(ws), podSecurityOf(old); level != was {
		// Either way: a tenant may neither loosen a workspace nor undo an administrator's
		// restricted.
		ok, err := v.isAdministrator(ctx, req)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if !ok {
			return admission.Denied(fmt.Sprintf("spec.podSecurity: %s may not change the Pod Security level of workspace %s from %s to %s: that is an administrator's choice "+
				"(one who may create Dora Roles); leave it out (baseline) or as it is, or ask an administrator", req.UserInfo.Username, ws.Name, was, level))
		}
	}
	if req.Operation != admissionv1.Create || ws.Spec.CloneFrom == "" {
		return admission.Allowed("")
	}
	source := ws.Spec.CloneFrom
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
	checks := []struct {
		ra   authorizationv1.ResourceAttributes
		deny string
	}{{
		ra: authorizationv1.ResourceAttributes{Group: doradev1.GroupVersion.Group, Resource: "workspaces", Name: source, Verb: doradev1.VerbClone},
		deny: fmt.Sprintf("spec.cloneFrom: %s may not clone workspace %s: that needs the Dora verb Clone on Workspace %s (a User grant with workspace: %s and a Role with Workspace: [Clone])",
			req.UserInfo.Username, source, source, source),
	}}
	if ws.Spec.CopyData {
		checks = append(checks, struct {
			ra   authorizationv1.ResourceAttributes
			deny string
		}{
			ra: authorizationv1.ResourceAttributes{Group: doradev1.GroupVersion.Group, Resource: "volumes", Namespace: naming.WorkspaceNamespace(source), Verb: doradev1.VerbDownload},
			deny: fmt.Sprintf("spec.copyData: %s may not copy the data of workspace %s: that needs the Dora verb Download on Volume in workspace %s; clone without copyData, or ask for the grant",
				req.UserInfo.Username, source, source),
		})
	}
	for _, c := range checks {
		ok, err := v.Authorizer.Allowed(ctx, req.UserInfo, c.ra)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if !ok {
			return admission.Denied(c.deny)
		}
	}
	return admission.Allowed("")
}

// isAdministrator reports whether the requester may create Dora Roles: who may do that can
// give themselves every right, so a workspace setting only they may change escalates
// nothing.
func (v WorkspaceValidator) isAdministrator(ctx context.Context, req admission.Request) (bool, error) {
	return v.Authorizer.Allowed(ctx, req.UserInfo, authorizationv1.ResourceAttributes{
		Group: doradev1.GroupVersion.Group, Resource: "roles", Verb: "create",
	})
}

// podSecurityOf is the workspace's Pod Security level; unset (a create's empty old
// workspace too) is the default, baseline.
func podSecurityOf(ws *doradev1.Workspace) string {
	if ws.Spec.PodSecurity == "" {
		return doradev1.PodSecurityBaseline
	}
	return ws.Spec.PodSecurity
}
