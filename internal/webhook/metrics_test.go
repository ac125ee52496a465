package webhook

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

type answer admission.Response

func (a answer) Handle(context.Context, admission.Request) admission.Response {
	return admission.Response(a)
}

// Every refusal is counted by webhook and reason; what is allowed is not.
func TestDenialsAreCountedByReason(t *testing.T) {
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{UID: "1"}}
	forbidden := counted{"test-forbidden", answer(admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		Allowed: false, Result: &metav1.Status{Reason: metav1.StatusReasonForbidden, Code: 403}}})}
	invalid := counted{"test-invalid", answer(admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		Allowed: false, Result: &metav1.Status{Code: 422}}})}
	allowed := counted{"test-allowed", answer(admission.Allowed(""))}
	for range 2 {
		forbidden.Handle(context.Background(), req)
	}
	invalid.Handle(context.Background(), req)
	allowed.Handle(context.Background(), req)
	for _, tc := range []struct {
		webhook, reason string
		want            float64
	}{
		{"test-forbidden", "Forbidden", 2},
		{"test-invalid", "Unprocessable Entity", 1},
		{"test-allowed", "Denied", 0},
	} {
		if got := testutil.ToFloat64(denials.WithLabelValues(tc.webhook, tc.reason)); got != tc.want {
			t.Errorf("dora_webhook_denials_total{webhook=%q,reason=%q} = %v, want %v", tc.webhook, tc.reason, got, tc.want)
		}
	}
}
