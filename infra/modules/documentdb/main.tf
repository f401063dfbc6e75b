# DocumentDB cluster of a stack: private (no public endpoint exists for
# DocumentDB; only the tasks' security group reaches it), storage encrypted
# with the stack key, TLS required by the cluster parameter group, audit and
# profiler logs to CloudWatch, seven days of automated backups (point-in-time
# restore, runbook 4.1). The master password is generated and kept by AWS in
# Secrets Manager (manage_master_user_password), so it never enters the state.

locals {
  cluster_id = "${var.name}-docdb"
}

resource "aws_docdb_subnet_group" "this" {
  name       = local.cluster_id
  subnet_ids = var.subnet_ids
}

resource "aws_docdb_cluster_parameter_group" "this" {
  name        = "${local.cluster_id}-tls"
  family      = "docdb5.0"
  description = "${local.cluster_id}: TLS required, audit logs on"

  parameter {
    name  = "tls"
    value = "enabled"
  }

  parameter {
    name  = "audit_logs"
    value = "enabled"
  }

  parameter {
    name  = "profiler"
    value = "enabled"
  }
}

# Created before the cluster so that retention applies from the first line
# (DocumentDB would otherwise create them with no expiry).
resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(["audit", "profiler"])

  name              = "/aws/docdb/${local.cluster_id}/${each.key}"
  retention_in_days = var.log_retention_days
}

resource "aws_docdb_cluster" "this" {
  cluster_identifier              = local.cluster_id
  engine                          = "docdb"
  engine_version                  = "5.0.0"
  master_username                 = "caliberadmin"
  manage_master_user_password     = true
  port                            = 27017
  db_subnet_group_name            = aws_docdb_subnet_group.this.name
  vpc_security_group_ids          = [var.security_group_id]
  db_cluster_parameter_group_name = aws_docdb_cluster_parameter_group.this.name
  storage_encrypted               = true
  kms_key_id                      = var.kms_key_arn
  backup_retention_period         = 7
  preferred_backup_window         = "16:00-17:00"
  preferred_maintenance_window    = "sun:17:30-sun:18:30"
  enabled_cloudwatch_logs_exports = ["audit", "profiler"]
  deletion_protection             = var.deletion_protection
  skip_final_snapshot             = !var.production
  final_snapshot_identifier       = var.production ? "${local.cluster_id}-final" : null

  depends_on = [aws_cloudwatch_log_group.this]
}

resource "aws_docdb_cluster_instance" "this" {
  count = var.instance_count

  identifier                 = "${local.cluster_id}-${count.index + 1}"
  cluster_identifier         = aws_docdb_cluster.this.id
  instance_class             = var.instance_class
  auto_minor_version_upgrade = true
  ca_cert_identifier         = "rds-ca-rsa2048-g1"
  promotion_tier             = count.index
}
