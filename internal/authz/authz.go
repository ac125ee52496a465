// Package authz asks the API server's authorizer what a requester may do, for Dora's verbs
// that have no Kubernetes request of their own (pause, resume, use, clone, assign...), and
// tells which Dora user a Kubernetes identity is. The webhooks ask on behalf of the
// requester, the volume policy on behalf of a workload's owner.
package authz

import (
	"context"
	"fmt"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Authorizer answers whether a requester may do something, as the API server's own
// authorizer would.
type Authorizer interface {
	Allowed(ctx context.Context, user authenticationv1.UserInfo, ra authorizationv1.ResourceAttributes) (bool, error)
}

// SubjectAccessReviewer asks the API server with a SubjectAccessReview.
type SubjectAccessReviewer struct {
	Client client.Client
}

// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
// The manager itself makes a clone's copies: workloads that may mount shared volumes, owned
// by whoever cloned (who was checked when the clone was created).
// +kubebuilder:rbac:groups=dora.dev,resources=volumes,verbs=use
// +kubebuilder:rbac:groups=dora.dev,resources=users,verbs=assign

// Allowed implements Authorizer.
func (s SubjectAccessReviewer) Allowed(ctx context.Context, user authenticationv1.UserInfo, ra authorizationv1.ResourceAttributes) (bool, error) {
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra, ResourceAttributes: &ra,
	}}
	if err := s.Client.Create(ctx, review); err != nil {
		return false, fmt.Errorf("asking whether %s may %s: %w", user.Username, Describe(ra), err)
	}
	return review.Status.Allowed, nil
}

// Describe says a request in words: "pause workloads/blue.red in namespace amedeo-setti".
func Describe(ra authorizationv1.ResourceAttributes) string {
	what := ra.Resource
	if ra.Subresource != "" {
		what += "/" + ra.Subresource
	}
	if ra.Name != "" {
		what += "/" + ra.Name
	}
	if ra.Namespace != "" {
		what += " in namespace " + ra.Namespace
	}
	return ra.Verb + " " + what
}

// DoraUser is the Dora user a request comes from: the authenticated name without the
// cluster's username prefix. Service accounts, system identities and names without the
// prefix are no Dora users (their objects are unowned: an administrator's or a GitOps
// tool's).
func DoraUser(prefix, username string) (string, bool) {
	if strings.HasPrefix(username, "system:") || !strings.HasPrefix(username, prefix) {
		return "", false
	}
	name := strings.TrimPrefix(username, prefix)
	if len(validation.IsDNS1123Subdomain(name)) > 0 {
		return "", false
	}
	return name, true
}

// KubernetesUser is the Kubernetes user a Dora user is.
func KubernetesUser(prefix, doraUser string) authenticationv1.UserInfo {
	return authenticationv1.UserInfo{Username: prefix + doraUser, Groups: []string{"system:authenticated"}}
}
