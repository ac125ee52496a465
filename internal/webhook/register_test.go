package webhook

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

func TestRegisterServesEveryWebhook(t *testing.T) {
	server := webhook.NewServer(webhook.Options{})
	Register(server, Options{Zone: "dc-rov-01", Reader: workspaces(t), Authorizer: grants{}})
	for _, path := range []string{OwnerMutatePath, WorkloadValidatePath, ZoneValidatePath, WorkspaceValidatePath} {
		_, pattern := server.WebhookMux().Handler(httptest.NewRequest(http.MethodPost, path, nil))
		if pattern != path {
			t.Errorf("%s is served by %q, want it registered", path, pattern)
		}
	}
}
