{{/* Base name of shared objects: <release>-digit-rs (or the release name when it already says so). */}}
{{- define "digit-rs.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels common to every object. */}}
{{- define "digit-rs.labels" -}}
app.kubernetes.io/part-of: digit-rs
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- range $k, $v := .Values.global.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* ConfigMap key for a file under configs/: slashes are not allowed in keys. */}}
{{- define "digit-rs.configKey" -}}
{{- . | trimPrefix "configs/" | replace "/" "__" -}}
{{- end -}}

{{/* Folders of configs/ that hold at least one file (rendered as ConfigMaps). */}}
{{- define "digit-rs.configFolders" -}}
{{- $root := . -}}
{{- $out := list -}}
{{- if .Values.configFiles.enabled -}}
{{- range .Values.configFiles.folders -}}
{{- if gt (len ($root.Files.Glob (printf "configs/%s/**" .))) 0 -}}
{{- $out = append $out . -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $out | toJson -}}
{{- end -}}
