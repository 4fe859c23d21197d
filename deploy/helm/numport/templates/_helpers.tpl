{{/* Names, labels, and each service's values merged over serviceDefaults. */}}

{{- define "numport.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A service's object name: partner_change becomes <fullname>-partner-change. Takes (dict "root" $ "name" name). */}}
{{- define "numport.component" -}}
{{- printf "%s-%s" (include "numport.fullname" .root) (.name | replace "_" "-") -}}
{{- end -}}

{{- define "numport.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .name }}
app.kubernetes.io/component: {{ .name | replace "_" "-" }}
{{- end }}
{{- end -}}

{{- define "numport.labels" -}}
{{ include "numport.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "numport.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "numport.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* One service's values over serviceDefaults, as YAML (read back with fromYaml). */}}
{{- define "numport.service" -}}
{{- $own := index .root.Values.services .name | default dict -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.serviceDefaults) (deepCopy $own)) -}}
{{- end -}}

{{/* The topics a service consumes, from topics.yaml (generated from shared/topics.py), as a YAML list. */}}
{{- define "numport.consumed" -}}
{{- $consumed := list -}}
{{- range (.root.Files.Get "topics.yaml" | fromYaml).topics -}}
{{- if has $.name .consumers -}}
{{- $consumed = append $consumed . -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "topics" $consumed) -}}
{{- end -}}

{{/* Refuses more replicas than the partitions of a consumed topic: such a group member would read nothing. */}}
{{- define "numport.checkReplicas" -}}
{{- $most := .svc.replicaCount -}}
{{- if ne .svc.autoscaling.mode "none" -}}
{{- $most = .svc.autoscaling.maxReplicas -}}
{{- end -}}
{{- range (include "numport.consumed" . | fromYaml).topics -}}
{{- if gt (int $most) (int .partitions) -}}
{{- fail (printf "services.%s: up to %d replicas, but topic %s has %d partitions and a consumer group member beyond that reads nothing; raise its partitions in shared/topics.py first" $.name (int $most) .name (int .partitions)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Secrets reach pods only through secretKeyRef: a secret setting among plain values stops the render. */}}
{{- define "numport.notSecret" -}}
{{- if or (hasKey .root.Values.secrets.keys .setting) (has .setting (list "NUMPORT_DATABASE_URL" "NUMPORT_KAFKA_SASL_PASSWORD")) -}}
{{- fail (printf "%s.%s: a secret setting; the chart reads it from an existing Secret, never from values" .where .setting) -}}
{{- end -}}
{{- end -}}

{{- define "numport.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
