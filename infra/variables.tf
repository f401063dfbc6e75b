# Inputs of one stack. caliber writes them into caliber.auto.tfvars.json from
# its command line and caliber.conf; nothing here is client-specific, so a new
# client never needs a code change (runbook section 5).

variable "client" {
  description = "Client name as the operator types it, e.g. Acme; SaaSShared names the shared SaaS stack."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]*$", var.client))
    error_message = "The client name must start with a letter and hold only letters, digits and hyphens."
  }
}

variable "slug" {
  description = "lower(client): the prefix of every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.slug))
    error_message = "The slug must be lower case letters, digits and hyphens, starting with a letter."
  }
}

variable "plan" {
  description = "Dedicated (a silo per client) or SaaS (the shared stack or a tenant on it)."
  type        = string

  validation {
    condition     = contains(["Dedicated", "SaaS"], var.plan)
    error_message = "The plan must be Dedicated or SaaS."
  }
}

variable "env" {
  description = "Environment name, e.g. stg or prod; prod turns on deletion protection and final snapshots."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*$", var.env))
    error_message = "The env must be lower case letters and digits, starting with a letter."
  }

  # <slug>-<env> plus the longest suffix ("-alb", "-api") must fit the 32
  # characters of load balancer and target group names.
  validation {
    condition     = length("${var.slug}-${var.env}") <= 28
    error_message = "The stack name <slug>-<env> must be at most 28 characters (load balancer names are limited to 32)."
  }
}

variable "subdomain" {
  description = "API at <subdomain>.<domain>, frontend at www.<subdomain>.<domain>."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.subdomain))
    error_message = "The subdomain must be one DNS label: lower case letters, digits and inner hyphens."
  }
}

variable "domain" {
  description = "The environment's DNS domain, e.g. hicaliber.net."
  type        = string
}

variable "hosted_zone_id" {
  description = "Route 53 hosted zone of var.domain (passed in: looking it up would call AWS at plan time)."
  type        = string

  validation {
    condition     = can(regex("^Z[A-Z0-9]+$", var.hosted_zone_id))
    error_message = "The hosted zone id must look like Z0123456789ABCDEFGHIJ."
  }
}

variable "aws_region" {
  description = "Region of the stack."
  type        = string
}

variable "aws_profile" {
  description = "Named AWS profile, or empty for the default credential chain."
  type        = string
  default     = ""
}

variable "availability_zones" {
  description = "The two availability zones of the VPC (passed in: aws_availability_zones would call AWS)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 2
    error_message = "Exactly two availability zones are expected."
  }
}

variable "api_image" {
  description = "Container image of the Django API."
  type        = string
}

variable "api_cpu" {
  description = "Fargate task CPU units."
  type        = number
}

variable "api_memory" {
  description = "Fargate task memory in MiB."
  type        = number
}

variable "api_desired_count" {
  description = "Number of API tasks."
  type        = number

  validation {
    condition     = var.api_desired_count >= 1
    error_message = "At least one API task is needed."
  }
}

variable "api_health_path" {
  description = "Path the load balancer probes on each task."
  type        = string
  default     = "/health/"

  validation {
    condition     = startswith(var.api_health_path, "/")
    error_message = "The health path must start with a slash."
  }
}

variable "api_container_port" {
  description = "Port the API container listens on."
  type        = number
  default     = 8000
}

variable "docdb_instance_class" {
  description = "DocumentDB instance class."
  type        = string
}

variable "docdb_instance_count" {
  description = "DocumentDB instances in the cluster (2 or more spreads them over both zones)."
  type        = number

  validation {
    condition     = var.docdb_instance_count >= 1 && var.docdb_instance_count <= 16
    error_message = "DocumentDB needs between 1 and 16 instances."
  }
}

variable "rds_instance_class" {
  description = "PostgreSQL instance class."
  type        = string
}

variable "rds_allocated_storage" {
  description = "PostgreSQL storage in GiB."
  type        = number

  validation {
    condition     = var.rds_allocated_storage >= 20
    error_message = "gp3 storage starts at 20 GiB."
  }
}

variable "rds_multi_az" {
  description = "Run PostgreSQL with a standby in the second zone."
  type        = bool
}

variable "saas_docdb_uri" {
  description = "Tenant only: documentdb_uri of the SaaSShared stack (runbook 1.3 flag)."
  type        = string
  default     = ""
}

variable "saas_rds_endpoint" {
  description = "Tenant only: postgresql_endpoint of the SaaSShared stack (runbook 1.3 flag)."
  type        = string
  default     = ""
}

variable "saas_api_lb_dns" {
  description = "Tenant only: api_endpoint (the load balancer DNS name) of the SaaSShared stack."
  type        = string
  default     = ""
}

variable "saas_api_lb_zone" {
  description = "Tenant only: hosted_zone_id (the load balancer's canonical zone) of the SaaSShared stack."
  type        = string
  default     = ""
}

variable "saas_shared" {
  description = "Tenant only: the SaaSShared stack's outputs as a flat object name -> value."
  type        = any
  default     = null
}

variable "allow_destroy" {
  description = "Lift deletion protection (set only by 'caliber destroy --force', for its destroy)."
  type        = bool
  default     = false
}
