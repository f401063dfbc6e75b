# PostgreSQL instance of a stack: private, storage encrypted with the stack
# key, TLS forced (rds.force_ssl), seven days of automated backups, logs and
# enhanced monitoring to CloudWatch. RDS generates the master password and
# keeps it in Secrets Manager (manage_master_user_password): it never enters
# the Terraform state.

data "aws_partition" "current" {}

locals {
  instance_id = "${var.name}-pg"

  # Performance Insights is not offered on the smallest burstable classes.
  performance_insights = !can(regex("\\.(micro|small)$", var.instance_class))
}

resource "aws_db_subnet_group" "this" {
  name       = local.instance_id
  subnet_ids = var.subnet_ids
}

resource "aws_db_parameter_group" "this" {
  name        = local.instance_id
  family      = "postgres16"
  description = "${local.instance_id}: TLS required, DDL and slow statements logged"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(["postgresql", "upgrade"])

  name              = "/aws/rds/instance/${local.instance_id}/${each.key}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "monitoring_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${local.instance_id}-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_trust.json
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  identifier     = local.instance_id
  engine         = "postgres"
  engine_version = "16"
  instance_class = var.instance_class
  db_name        = "caliber"
  username       = "caliber_admin"
  port           = 5432

  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  allocated_storage     = var.allocated_storage
  max_allocated_storage = var.allocated_storage * 4
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  multi_az               = var.multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [var.security_group_id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  allow_major_version_upgrade         = false

  backup_retention_period  = 7
  backup_window            = "16:00-17:00"
  maintenance_window       = "sun:17:30-sun:18:30"
  copy_tags_to_snapshot    = true
  delete_automated_backups = !var.production

  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  performance_insights_enabled          = local.performance_insights
  performance_insights_kms_key_id       = local.performance_insights ? var.kms_key_arn : null
  performance_insights_retention_period = local.performance_insights ? 7 : null

  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !var.production
  final_snapshot_identifier = var.production ? "${local.instance_id}-final" : null

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy_attachment.monitoring]
}
