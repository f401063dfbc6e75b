# The stack's secrets as empty containers. Terraform creates the secret
# resources only, never a version: `caliber seed-secrets` writes the values,
# so they never enter the Terraform state. Task definitions refer to the
# secrets by ARN and ECS injects the values when a task starts.
#
#   documentdb-uri     mongodb://user:password@cluster:27017/?tls=true&...
#   postgresql         JSON {"host", "port", "dbname", "username", "password"}
#   django-secret-key  a random key

variable "slug" {
  type = string
}

variable "env" {
  type = string
}

variable "kms_key_arn" {
  description = "The stack key that encrypts the secret values."
  type        = string
}

variable "recovery_window" {
  description = "Days a deleted secret can be restored (0: deleted at once, so a stack can be recreated)."
  type        = number
}

locals {
  prefix = "caliber/${var.slug}/${var.env}"
  descriptions = {
    "documentdb-uri"    = "DocumentDB connection URI with credentials"
    "postgresql"        = "PostgreSQL connection: JSON host, port, dbname, username, password"
    "django-secret-key" = "Django SECRET_KEY"
  }
}

resource "aws_secretsmanager_secret" "this" {
  for_each = local.descriptions

  name                    = "${local.prefix}/${each.key}"
  description             = "${each.value} (seeded by caliber seed-secrets)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window
}

output "arns" {
  description = "Secret ARN by short name."
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.arn }
}

output "prefix" {
  value = local.prefix
}
