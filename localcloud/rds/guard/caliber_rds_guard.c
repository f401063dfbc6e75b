/*
 * caliber_rds_guard.c: a PostgreSQL 15 server module that keeps the roles
 * which reach the server's operating system out of the RDS master's hands.
 *
 * The master user is a CREATEROLE role (as on RDS, so that it can create
 * its tenants' roles), and on PostgreSQL 15 CREATEROLE may grant any role
 * that is not a superuser, the predefined ones included: GRANT
 * pg_execute_server_program TO master, then COPY ... FROM PROGRAM, runs
 * shell commands as the server's OS user.  RDS's rds_superuser cannot
 * obtain these roles; this module makes that true here.  Loaded through
 * shared_preload_libraries (caliberd writes it into postgresql.conf before
 * every start), its ProcessUtility hook refuses, for anyone but a
 * superuser:
 *
 *   - GRANT r TO ...                    (GrantRoleStmt)
 *   - CREATE ROLE ... IN ROLE r          (CreateRoleStmt, "addroleto")
 *   - ALTER ROLE/GROUP r ...             (AlterRoleStmt: ALTER GROUP r ADD USER)
 *
 * where r is, or is a member of (directly or not), pg_execute_server_program,
 * pg_read_server_files or pg_write_server_files.  Revoking stays allowed.
 * It also refuses COPY to or from a server file or program to anyone but a
 * superuser, whatever the roles: a membership granted before the guard
 * existed (an instance made by an older caliberd, or restored from its
 * snapshot) gives nothing.  COPY FROM STDIN / TO STDOUT (psql's \copy)
 * stays open to all.
 * The hook sees every utility statement, including those run from PL/pgSQL
 * (EXECUTE) and from SECURITY DEFINER functions (superuser() is the
 * current, not the session, user: a superuser's function may still grant).
 */
#include "postgres.h"

#include "catalog/pg_authid_d.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"

PG_MODULE_MAGIC;

/* PostgreSQL 15's fmgr.h does not declare the module's entry point. */
extern PGDLLEXPORT void _PG_init(void);

static ProcessUtility_hook_type guard_prev_hook;

/* The roles whose members run programs or read and write the server's files. */
static const Oid guard_roles[] = {
	ROLE_PG_EXECUTE_SERVER_PROGRAM,
	ROLE_PG_READ_SERVER_FILES,
	ROLE_PG_WRITE_SERVER_FILES,
};

/* Whether holding role gives one of guard_roles (membership, inherited or not). */
static bool guard_role_is_closed(Oid role)
{
	size_t i;

	if (!OidIsValid(role))
		return false;
	for (i = 0; i < lengthof(guard_roles); i++)
		if (role == guard_roles[i] || is_member_of_role(role, guard_roles[i]))
			return true;
	return false;
}

static void guard_refuse(const char *name)
{
	ereport(ERROR,
		(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("permission denied to grant role \"%s\"", name),
			errdetail("Membership in pg_execute_server_program, pg_read_server_files and "
				  "pg_write_server_files is reserved to the instance's administrator "
				  "(rdsadmin), as on Amazon RDS.")));
}

static void guard_check_name(const char *name)
{
	if (name != NULL && guard_role_is_closed(get_role_oid(name, true)))
		guard_refuse(name);
}

static void guard_check_spec(const RoleSpec *spec)
{
	if (spec == NULL || spec->roletype == ROLESPEC_PUBLIC)
		return;
	if (guard_role_is_closed(get_rolespec_oid(spec, true)))
		guard_refuse(spec->roletype == ROLESPEC_CSTRING ? spec->rolename : "current role");
}

static void guard_check(Node *stmt)
{
	ListCell *lc;

	switch (nodeTag(stmt)) {
	case T_GrantRoleStmt: {
		GrantRoleStmt *grant = (GrantRoleStmt *)stmt;

		if (!grant->is_grant)
			break;
		foreach (lc, grant->granted_roles)
			guard_check_name(((AccessPriv *)lfirst(lc))->priv_name);
		break;
	}
	case T_CreateRoleStmt: {
		CreateRoleStmt *create = (CreateRoleStmt *)stmt;

		foreach (lc, create->options) {
			DefElem *opt = (DefElem *)lfirst(lc);
			ListCell *r;

			if (strcmp(opt->defname, "addroleto") != 0)
				continue;
			foreach (r, (List *)opt->arg)
				guard_check_spec((RoleSpec *)lfirst(r));
		}
		break;
	}
	case T_AlterRoleStmt:
		guard_check_spec(((AlterRoleStmt *)stmt)->role);
		break;
	case T_CopyStmt: {
		CopyStmt *copy = (CopyStmt *)stmt;

		if (copy->is_program || copy->filename != NULL)
			ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("permission denied to COPY to or from a server %s",
						copy->is_program ? "program" : "file"),
					errhint("Use COPY FROM STDIN or COPY TO STDOUT (psql's \\copy): "
						"as on Amazon RDS, the server's files and programs are "
						"reserved to its administrator.")));
		break;
	}
	default:
		break;
	}
}

static void guard_utility(PlannedStmt *pstmt, const char *query, bool read_only_tree,
	ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *query_env,
	DestReceiver *dest, QueryCompletion *qc)
{
	if (!superuser())
		guard_check(pstmt->utilityStmt);
	if (guard_prev_hook != NULL)
		guard_prev_hook(pstmt, query, read_only_tree, context, params, query_env, dest, qc);
	else
		standard_ProcessUtility(pstmt, query, read_only_tree, context, params, query_env,
			dest, qc);
}

void _PG_init(void)
{
	/* only as a preloaded library: a LOAD in one session would protect nothing */
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR, (errmsg("caliber_rds_guard must be loaded through "
				       "shared_preload_libraries")));
	guard_prev_hook = ProcessUtility_hook;
	ProcessUtility_hook = guard_utility;
}
