package webhook

import (
	"context"
	"fmt"
	"net/http"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/authz"
)

// OwnerMutatePath is where the owner-stamping webhook is served.
const OwnerMutatePath = "/mutate-dora-dev-v1alpha1-owner"

// +kubebuilder:webhook:path=/mutate-dora-dev-v1alpha1-owner,mutating=true,failurePolicy=fail,sideEffects=None,groups=dora.dev,resources=workloads;workspaces;volumes,verbs=create;update,versions=v1alpha1,name=owner.dora.dev,admissionReviewVersions=v1,reinvocationPolicy=IfNeeded

// OwnerMutator stamps dora.dev/owner on every Workload, Workspace and Volume from the
// authenticated user at creation, and keeps it afterwards. Nothing a user writes decides
// it: an owner other than oneself, at creation or later, needs the verb assign on
// users/<owner> (for GitOps service accounts applying on a user's behalf). A request that
// drops the annotation gets it back. Requests from no Dora user (service accounts,
// administrators, anyone without a Dora User object) leave an object unowned unless they
// name an owner they may assign.
type OwnerMutator struct {
	// UsernamePrefix is the cluster's prefix before Dora user names (--username-prefix).
	UsernamePrefix string
	Authorizer     authz.Authorizer
	// Users reads Dora Users: a requester is a Dora user only when theirs exists. Give it
	// the manager's cache: every workload write asks.
	Users client.Reader
	// Live, when set, is asked when Users finds no User (the manager's API reader): a User
	// created a moment ago may not be in the cache yet, and their first workload must be
	// theirs, and charged.
	Live client.Reader
}

// isUser says whether a Dora User of this name exists: in Users, else in Live.
func (m OwnerMutator) isUser(ctx context.Context, name string) (bool, error) {
	for _, r := range []client.Reader{m.Users, m.Live} {
		if r == nil {
			continue
		}
		switch err := r.Get(ctx, client.ObjectKey{Name: name}, &doradev1.User{}); {
		case err == nil:
			return true, nil
		case !apierrors.IsNotFound(err):
			return false, fmt.Errorf("reading user %s: %w", name, err)
		}
	}
	return false, nil
}

// Handle implements admission.Handler.
func (m OwnerMutator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	obj, err := decodeMetadata(req.Object.Raw)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	asked := obj.Annotations[doradev1.AnnotationOwner]
	requester, isDoraUser := authz.DoraUser(m.UsernamePrefix, req.UserInfo.Username)
	if isDoraUser {
		if isDoraUser, err = m.isUser(ctx, requester); err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
	}

	var current string
	if req.Operation == admissionv1.Update {
		old, err := decodeMetadata(req.OldObject.Raw)
		if err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		current = old.Annotations[doradev1.AnnotationOwner]
	}
	switch {
	case asked == current && (asked != "" || req.Operation == admissionv1.Update || !isDoraUser):
		return admission.Allowed("")
	case asked == "" && req.Operation == admissionv1.Update:
		// The owner cannot be dropped: put it back.
		return setOwner(obj.Annotations, current)
	case asked == "":
		return setOwner(obj.Annotations, requester)
	case isDoraUser && asked == requester && req.Operation == admissionv1.Create:
		return admission.Allowed("")
	}
	ok, err := m.Authorizer.Allowed(ctx, req.UserInfo, authorizationv1.ResourceAttributes{
		Group: doradev1.GroupVersion.Group, Resource: "users", Name: asked, Verb: doradev1.VerbAssign,
	})
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if !ok {
		change := "set"
		if current != "" {
			change = fmt.Sprintf("change from %s", current)
		}
		return admission.Denied(fmt.Sprintf("metadata.annotations[%s]: %s may not %s the owner to %q: the owner is the user who creates an object, "+
			"and only a requester with the verb %s on users/%s may name another; leave the annotation out",
			doradev1.AnnotationOwner, req.UserInfo.Username, change, asked, doradev1.VerbAssign, asked))
	}
	return admission.Allowed("")
}

// setOwner answers with a patch that sets the owner annotation.
func setOwner(annotations map[string]string, owner string) admission.Response {
	var op jsonpatch.Operation
	if annotations == nil {
		op = jsonpatch.NewOperation("add", "/metadata/annotations", map[string]string{doradev1.AnnotationOwner: owner})
	} else {
		op = jsonpatch.NewOperation("add", "/metadata/annotations/"+escapePointer(doradev1.AnnotationOwner), owner)
	}
	return admission.Patched("owner stamped from the authenticated user", op)
}

// escapePointer escapes a key for a JSON pointer (RFC 6901).
func escapePointer(key string) string {
	out := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case '~':
			out = append(out, '~', '0')
		case '/':
			out = append(out, '~', '1')
		default:
			out = append(out, key[i])
		}
	}
	return string(out)
}
