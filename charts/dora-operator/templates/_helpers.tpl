{{/* The prefix of every object's name: the release name when it says dora (release dora:
dora-controller-manager, as config/default names it), else <release>-dora. */}}
{{- define "dora.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default "dora" .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "dora.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "dora.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "dora.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dora
{{- end -}}

{{- define "dora.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dora.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dora.manager.selectorLabels" -}}
{{ include "dora.selectorLabels" . }}
app.kubernetes.io/component: manager
{{- end -}}

{{- define "dora.agent.selectorLabels" -}}
{{ include "dora.selectorLabels" . }}
app.kubernetes.io/component: node-agent
{{- end -}}

{{/* Object names. */}}
{{- define "dora.manager.name" -}}{{ include "dora.fullname" . }}-controller-manager{{- end -}}
{{- define "dora.manager.serviceAccount" -}}{{ include "dora.fullname" . }}-controller-manager{{- end -}}
{{- define "dora.agent.name" -}}{{ include "dora.fullname" . }}-node-agent{{- end -}}
{{- define "dora.webhook.service" -}}{{ include "dora.fullname" . }}-webhook-service{{- end -}}
{{- define "dora.metrics.service" -}}{{ include "dora.fullname" . }}-metrics-service{{- end -}}
{{- define "dora.webhook.certificate" -}}{{ include "dora.fullname" . }}-serving-cert{{- end -}}

{{/* The username the API server gives the manager: the tenancy policies let only it through. */}}
{{- define "dora.manager.username" -}}
system:serviceaccount:{{ .Release.Namespace }}:{{ include "dora.manager.serviceAccount" . }}
{{- end -}}

{{- define "dora.agent.username" -}}
system:serviceaccount:{{ .Release.Namespace }}:{{ include "dora.agent.name" . }}
{{- end -}}

{{/*
How the webhook serving certificate is made: "secret" (webhook.certSecret, an existing
Secret), "certManager" (certManager.enabled) or "self" (the default: the manager makes and
rotates it in a Secret the chart creates empty, and injects its CA).
*/}}
{{- define "dora.webhook.certMode" -}}
{{- if .Values.webhook.certSecret -}}secret
{{- else if .Values.certManager.enabled -}}certManager
{{- else -}}self
{{- end -}}
{{- end -}}

{{/* The Secret with the webhook server's tls.crt and tls.key. */}}
{{- define "dora.webhook.secret" -}}
{{- if .Values.webhook.certSecret -}}
{{- .Values.webhook.certSecret -}}
{{- else -}}
{{- include "dora.fullname" . }}-webhook-server-cert
{{- end -}}
{{- end -}}

{{/* The names of the webhook configurations. */}}
{{- define "dora.webhook.mutating" -}}{{ include "dora.fullname" . }}-mutating-webhook-configuration{{- end -}}
{{- define "dora.webhook.validating" -}}{{ include "dora.fullname" . }}-validating-webhook-configuration{{- end -}}

{{/* The CA annotation or caBundle of the webhook configurations. */}}
{{- define "dora.webhook.annotations" -}}
{{- if and .Values.certManager.enabled (not .Values.webhook.certSecret) -}}
annotations:
  cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ include "dora.webhook.certificate" . }}
{{- end -}}
{{- end -}}

{{- define "dora.image" -}}
{{ .image.repository }}:{{ default .root.Chart.AppVersion .image.tag }}
{{- end -}}
