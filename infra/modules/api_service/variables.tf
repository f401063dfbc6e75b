variable "name" {
  description = "Stack name; service and task family are <name>-api."
  type        = string
}

variable "cluster_arn" {
  description = "ECS cluster: the stack's own, or for a tenant the shared one."
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "Private subnets of the tasks."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the tasks."
  type        = string
}

variable "listener_arn" {
  description = "HTTPS listener the host-header rule is added to."
  type        = string
}

variable "listener_priority" {
  description = "Priority of the host-header rule, unique on the listener."
  type        = number
}

variable "host_name" {
  description = "API host name routed to this service."
  type        = string
}

variable "attach_certificate" {
  description = "Add certificate_arn to the listener (a tenant on the shared listener)."
  type        = bool
  default     = false
}

variable "certificate_arn" {
  description = "Certificate of host_name, added to the listener when attach_certificate."
  type        = string
  default     = null
}

variable "image" {
  type = string
}

variable "cpu" {
  type = number
}

variable "memory" {
  type = number
}

variable "desired_count" {
  type = number
}

variable "container_port" {
  type = number
}

variable "health_path" {
  type = string
}

variable "log_group_name" {
  type = string
}

variable "log_retention_days" {
  type = number
}

variable "secret_arns" {
  description = "The stack's secrets by short name (documentdb-uri, postgresql, django-secret-key)."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "Key of the secrets: the execution role may decrypt through Secrets Manager only."
  type        = string
}

variable "environment" {
  description = "Plain (non-secret) environment of the container."
  type        = map(string)
  default     = {}
}
