# Stack outputs: the same keys for every kind where they make sense (a
# tenant passes the shared stack's database and load balancer values
# through). caliber reads them with `terraform output -json`; none holds a
# secret value.

output "stack" {
  value = local.stack
}

output "kind" {
  description = "dedicated, shared or tenant."
  value       = local.kind
}

output "documentdb_uri" {
  description = "DocumentDB connection string without credentials."
  value       = local.documentdb_uri
}

output "postgresql_endpoint" {
  description = "PostgreSQL host:port."
  value       = local.postgresql_endpoint
}

output "api_endpoint" {
  description = "DNS name of the load balancer serving the API (runbook 1.3 --saas-api-lb-dns)."
  value       = local.lb_dns_name
}

output "hosted_zone_id" {
  description = "Canonical hosted zone of that load balancer (runbook 1.3 --saas-api-lb-zone)."
  value       = local.lb_zone_id
}

output "api_url" {
  value = "https://${local.api_host}"
}

output "frontend_url" {
  value = module.static_site.url
}

output "ecs_cluster_name" {
  value = local.cluster_name
}

output "ecs_cluster_arn" {
  value = local.cluster_arn
}

output "ecs_service_name" {
  value = module.api_service.service_name
}

output "task_family" {
  value = module.api_service.task_family
}

output "task_definition_arn" {
  value = module.api_service.task_definition_arn
}

output "log_group_name" {
  value = module.api_service.log_group_name
}

output "frontend_bucket" {
  value = module.static_site.bucket
}

output "cloudfront_distribution_id" {
  value = module.static_site.distribution_id
}

output "secret_arns" {
  description = "ARNs of the stack's secrets by short name (values are seeded by caliber seed-secrets)."
  value       = module.secrets.arns
}

output "secret_prefix" {
  value = module.secrets.prefix
}

output "kms_key_arn" {
  value = aws_kms_key.stack.arn
}

output "rds_instance_id" {
  value = local.core ? module.postgres[0].instance_id : try(local.shared.rds_instance_id, null)
}

output "docdb_cluster_id" {
  value = local.core ? module.documentdb[0].cluster_id : try(local.shared.docdb_cluster_id, null)
}

output "db_subnet_group_name" {
  description = "RDS subnet group (restore runbook --db-subnet-group-name)."
  value       = local.core ? module.postgres[0].subnet_group_name : try(local.shared.db_subnet_group_name, null)
}

output "docdb_subnet_group_name" {
  value = local.core ? module.documentdb[0].subnet_group_name : try(local.shared.docdb_subnet_group_name, null)
}

output "db_security_group_ids" {
  description = "Security group of each database (restore runbook --vpc-security-group-ids)."
  value = local.core ? {
    postgresql = module.network[0].postgres_security_group_id
    documentdb = module.network[0].documentdb_security_group_id
  } : try(local.shared.db_security_group_ids, null)
}

output "rds_master_secret_arn" {
  description = "Secret where RDS keeps the generated master credentials."
  value       = local.core ? module.postgres[0].master_secret_arn : try(local.shared.rds_master_secret_arn, null)
}

output "docdb_master_secret_arn" {
  description = "Secret where DocumentDB keeps the generated master credentials."
  value       = local.core ? module.documentdb[0].master_secret_arn : try(local.shared.docdb_master_secret_arn, null)
}

# What tenants build on (read back through var.saas_shared); also set on a
# dedicated stack, where they describe its own core.
output "vpc_id" {
  value = local.vpc_id
}

output "private_subnet_ids" {
  value = local.private_subnet_ids
}

output "tasks_security_group_id" {
  value = local.tasks_sg_id
}

output "alb_security_group_id" {
  value = local.core ? module.network[0].alb_security_group_id : try(local.shared.alb_security_group_id, null)
}

output "https_listener_arn" {
  value = local.https_listener_arn
}

output "lb_arn" {
  value = local.core ? module.alb[0].arn : try(local.shared.lb_arn, null)
}

output "lb_zone_id" {
  value = local.lb_zone_id
}

output "listener_rule_priority" {
  value = local.listener_rule_priority
}
