/*
 * services.c: caliberd's catalogue, the one place that names every
 * service.  Each service defines its row (struct lc_service, with its
 * operations) in <service>/routes.c; this list only orders them.
 *
 * The order is the start-up order (caliberd calls each init in turn, then
 * starts the edge): a service comes after those whose tables its init or
 * its background threads use.  ECS comes after Secrets Manager, CloudWatch
 * Logs and ELBv2: its supervisor reads secrets, writes log events and
 * registers targets from the start.  Routing does not depend on the
 * order: a request picks its service by name, then the first matching row
 * of that service's own table.
 */
#include "compat.h"

#include "core/router.h"
#include "cloudfront/cloudfront.h"
#include "ec2/ec2.h"
#include "ecs/ecs.h"
#include "elbv2/elbv2.h"
#include "iam/iam.h"
#include "logs/logs.h"
#include "rds/rds.h"
#include "route53/route53.h"
#include "s3/s3.h"
#include "secretsmanager/secretsmanager.h"
#include "sts/sts.h"

const struct lc_service *const lc_services[] = {
	&sm_service,
	&s3_service,
	&cf_service,
	&elb_service,
	&r53_service,
	&logs_service,
	&ecs_service,
	&rds_service,
	&sts_service,
	&iam_service,
	&ec2_service,
};
const size_t lc_n_services = ARRAY_SIZE(lc_services);
