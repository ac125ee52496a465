package webhook

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// denials counts the requests the webhooks refuse, by webhook and by the reason of the
// refusal (Forbidden: a verb the user lacks; Invalid: a document that is wrong; BadRequest,
// InternalError...). The allowed ones are controller-runtime's
// controller_runtime_webhook_requests_total.
var denials = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "dora_webhook_denials_total",
	Help: "Admission requests the Dora webhooks refused, by webhook and reason (Forbidden, Invalid, BadRequest, ...).",
}, []string{"webhook", "reason"})

func init() {
	ctrlmetrics.Registry.MustRegister(denials)
}

// counted counts the refusals of a handler under name.
type counted struct {
	name string
	admission.Handler
}

// Handle answers as the handler does and counts a refusal.
func (c counted) Handle(ctx context.Context, req admission.Request) admission.Response {
	resp := c.Handler.Handle(ctx, req)
	if !resp.Allowed {
		denials.WithLabelValues(c.name, denialReason(resp)).Inc()
	}
	return resp
}

// denialReason is the refusal's status reason, or its HTTP code's name when it has none.
func denialReason(resp admission.Response) string {
	if resp.Result != nil {
		if resp.Result.Reason != "" {
			return string(resp.Result.Reason)
		}
		if resp.Result.Code != 0 {
			return http.StatusText(int(resp.Result.Code))
		}
	}
	return "Denied"
}
