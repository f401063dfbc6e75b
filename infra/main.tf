# Root configuration of one Caliber stack (<slug>-<env>). Three kinds share it:
#
#   dedicated  plan Dedicated: its own VPC, DocumentDB, PostgreSQL, ECS
#              cluster, load balancer, API service and frontend
#   shared     plan SaaS, client SaaSShared: the same core, whose load balancer
#              routes by host name to every tenant's service (default: 404)
#   tenant     plan SaaS, any other client: only its own API service (on the
#              shared cluster, behind a host rule of the shared HTTPS listener),
#              secrets, key, frontend and DNS records; it reads the shared
#              stack's outputs from var.saas_shared
#
# Names derive from the stack name; the longest suffix appended to a load
# balancer or target group name is 4 characters ("-alb", "-api"), so
# slug-env may be up to 28 characters (AWS's limit is 32).

locals {
  stack = "${var.slug}-${var.env}"
  prod  = var.env == "prod"
  # prod databases and load balancers refuse deletion; 'caliber destroy --force'
  # first applies with allow_destroy = true to lift it, then destroys
  deletion_protection = local.prod && !var.allow_destroy
  kind                = var.plan == "Dedicated" ? "dedicated" : (var.client == "SaaSShared" ? "shared" : "tenant")
  core                = local.kind != "tenant"

  api_host = "${var.subdomain}.${var.domain}"
  www_host = "www.${var.subdomain}.${var.domain}"

  tags = {
    client = var.client
    env    = var.env
    plan   = var.plan
    stack  = local.stack
  }

  # CloudWatch retention: a year in production (what reviewers expect of audit
  # trails), a month elsewhere.
  log_retention_days = local.prod ? 365 : 30

  # Each API service hangs off the HTTPS listener by a host-header rule. Rule
  # priorities must be unique per listener; deriving them from the slug keeps
  # them stable without any shared counter (1..49999, listener maximum 50000).
  listener_rule_priority = parseint(substr(sha1(var.slug), 0, 4), 16) % 49999 + 1

  # A tenant's view of the shared stack; null for the other kinds.
  shared = local.kind == "tenant" ? var.saas_shared : null

  vpc_id             = local.core ? module.network[0].vpc_id : local.shared.vpc_id
  private_subnet_ids = local.core ? module.network[0].private_subnet_ids : local.shared.private_subnet_ids
  tasks_sg_id        = local.core ? module.network[0].tasks_security_group_id : local.shared.tasks_security_group_id
  cluster_arn        = local.core ? module.ecs_cluster[0].arn : local.shared.ecs_cluster_arn
  cluster_name       = local.core ? module.ecs_cluster[0].name : local.shared.ecs_cluster_name
  https_listener_arn = local.core ? module.alb[0].https_listener_arn : local.shared.https_listener_arn
  lb_dns_name        = local.core ? module.alb[0].dns_name : var.saas_api_lb_dns
  lb_zone_id         = local.core ? module.alb[0].zone_id : var.saas_api_lb_zone

  documentdb_uri      = local.core ? module.documentdb[0].uri : local.shared.documentdb_uri
  postgresql_endpoint = local.core ? module.postgres[0].endpoint : local.shared.postgresql_endpoint
}

# The tenant's inputs must describe the shared stack that is really deployed:
# checked before anything is created.
resource "terraform_data" "tenant_inputs" {
  count = local.kind == "tenant" ? 1 : 0

  lifecycle {
    precondition {
      condition = var.saas_shared != null && alltrue([
        for k in ["vpc_id", "private_subnet_ids", "tasks_security_group_id", "ecs_cluster_arn", "ecs_cluster_name", "https_listener_arn", "documentdb_uri", "postgresql_endpoint", "api_endpoint", "hosted_zone_id"] :
        can(var.saas_shared[k])
      ])
      error_message = "A SaaS tenant needs saas_shared: the outputs of the deployed SaaSShared stack of this environment."
    }
    precondition {
      condition     = var.saas_api_lb_dns != "" && var.saas_api_lb_zone != ""
      error_message = "A SaaS tenant needs saas_api_lb_dns and saas_api_lb_zone (api_endpoint and hosted_zone_id of SaaSShared)."
    }
    precondition {
      condition = var.saas_shared == null ? true : (
        lower(var.saas_api_lb_dns) == lower(try(var.saas_shared.api_endpoint, "")) &&
        var.saas_api_lb_zone == try(var.saas_shared.hosted_zone_id, "") &&
        (var.saas_docdb_uri == "" || var.saas_docdb_uri == try(var.saas_shared.documentdb_uri, "")) &&
        (var.saas_rds_endpoint == "" || var.saas_rds_endpoint == try(var.saas_shared.postgresql_endpoint, ""))
      )
      error_message = "The saas_* inputs do not match the outputs of the deployed SaaSShared stack: pass that stack's current outputs."
    }
  }
}

# One customer managed key per stack: its secrets and (for stacks with a core)
# its databases are encrypted with it, so access is governed by the stack's
# own IAM policies. The default key policy (account root) applies: writing one
# would need the account id, and aws_caller_identity calls AWS at plan time.
resource "aws_kms_key" "stack" {
  description             = "Caliber ${local.stack}: secrets and database storage"
  enable_key_rotation     = true
  deletion_window_in_days = local.prod ? 30 : 7
}

resource "aws_kms_alias" "stack" {
  name          = "alias/caliber/${local.stack}"
  target_key_id = aws_kms_key.stack.key_id
}

module "secrets" {
  source = "./modules/secrets"

  slug            = var.slug
  env             = var.env
  kms_key_arn     = aws_kms_key.stack.arn
  recovery_window = local.prod ? 30 : 0
}

module "log_bucket" {
  source = "./modules/log_bucket"

  name                  = local.stack
  account_id_source_arn = aws_kms_key.stack.arn
  alb_logs              = local.core
  retention_days        = local.log_retention_days
  production            = local.prod
}

module "network" {
  source = "./modules/network"
  count  = local.core ? 1 : 0

  name               = local.stack
  log_group_prefix   = "/caliber/${var.slug}/${var.env}"
  availability_zones = var.availability_zones
  api_port           = var.api_container_port
  log_retention_days = local.log_retention_days
}

module "documentdb" {
  source = "./modules/documentdb"
  count  = local.core ? 1 : 0

  name                = local.stack
  subnet_ids          = module.network[0].private_subnet_ids
  security_group_id   = module.network[0].documentdb_security_group_id
  instance_class      = var.docdb_instance_class
  instance_count      = var.docdb_instance_count
  kms_key_arn         = aws_kms_key.stack.arn
  production          = local.prod
  deletion_protection = local.deletion_protection
  log_retention_days  = local.log_retention_days
}

module "postgres" {
  source = "./modules/postgres"
  count  = local.core ? 1 : 0

  name                = local.stack
  subnet_ids          = module.network[0].private_subnet_ids
  security_group_id   = module.network[0].postgres_security_group_id
  instance_class      = var.rds_instance_class
  allocated_storage   = var.rds_allocated_storage
  multi_az            = var.rds_multi_az
  kms_key_arn         = aws_kms_key.stack.arn
  production          = local.prod
  deletion_protection = local.deletion_protection
  log_retention_days  = local.log_retention_days
}

module "ecs_cluster" {
  source = "./modules/ecs_cluster"
  count  = local.core ? 1 : 0

  name = local.stack
}

# Certificate of the API host name, in the stack's region (the ALB's).
module "api_certificate" {
  source = "./modules/certificate"

  domain_name    = local.api_host
  hosted_zone_id = var.hosted_zone_id
}

module "alb" {
  source = "./modules/alb"
  count  = local.core ? 1 : 0

  name                = local.stack
  subnet_ids          = module.network[0].public_subnet_ids
  security_group_id   = module.network[0].alb_security_group_id
  certificate_arn     = module.api_certificate.certificate_arn
  access_log_bucket   = module.log_bucket.bucket_ready
  deletion_protection = local.deletion_protection
}

module "api_service" {
  source = "./modules/api_service"

  name               = local.stack
  cluster_arn        = local.cluster_arn
  vpc_id             = local.vpc_id
  subnet_ids         = local.private_subnet_ids
  security_group_id  = local.tasks_sg_id
  listener_arn       = local.https_listener_arn
  listener_priority  = local.listener_rule_priority
  host_name          = local.api_host
  attach_certificate = local.kind == "tenant"
  certificate_arn    = module.api_certificate.certificate_arn
  image              = var.api_image
  cpu                = var.api_cpu
  memory             = var.api_memory
  desired_count      = var.api_desired_count
  container_port     = var.api_container_port
  health_path        = var.api_health_path
  log_group_name     = "/caliber/${var.slug}/${var.env}/api"
  log_retention_days = local.log_retention_days
  secret_arns        = module.secrets.arns
  kms_key_arn        = aws_kms_key.stack.arn
  environment = {
    CALIBER_CLIENT       = var.client
    CALIBER_ENV          = var.env
    CALIBER_PLAN         = var.plan
    DJANGO_ALLOWED_HOSTS = local.api_host
    FRONTEND_ORIGIN      = "https://${local.www_host}"
  }

  depends_on = [terraform_data.tenant_inputs]
}

module "static_site" {
  source = "./modules/static_site"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name           = local.stack
  host_name      = local.www_host
  hosted_zone_id = var.hosted_zone_id
  log_bucket     = module.log_bucket.bucket_ready
  production     = local.prod
}

# The API's name: an alias to the stack's own load balancer, or for a tenant
# to the shared one (runbook 1.3 --saas-api-lb-dns / --saas-api-lb-zone).
resource "aws_route53_record" "api" {
  zone_id = var.hosted_zone_id
  name    = local.api_host
  type    = "A"

  alias {
    name                   = local.lb_dns_name
    zone_id                = local.lb_zone_id
    evaluate_target_health = true
  }
}
