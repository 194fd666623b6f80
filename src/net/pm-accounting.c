/* pm-accounting.c: the accounting service: cost accounts and usage kept in step
 *
 * Public functions run on the caller's thread; their callbacks come back to the caller's
 * main context (the PmNetClient does the I/O on the network thread).
 */
#include "pm-net-services.h"

#include "pm-net-private.h"

static void
accounting_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(PmNetResponse) response = NULL;
  g_autoptr(PmAccountsSync) remote = NULL;
  g_autoptr(GError) error = NULL;

  response = pm_net_client_call_finish (PM_NET_CLIENT (source), result, &error);
  if (response == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  remote = pm_accounts_sync_parse (response->body, &error);
  if (remote == NULL)
    {
      g_task_return_error (task, pm_net_protocol_error ("cost account list", error));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&remote),
                         (GDestroyNotify) pm_accounts_sync_free);
}

void
pm_accounting_sync_async (PmNetClient         *client,
                          PmAccountsSync      *local,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task = g_task_new (client, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  PmNetRequest *net;

  g_task_set_source_tag (task, pm_accounting_sync_async);
  net = pm_net_client_new_service_request (client, PM_REMOTE_SERVICE_ACCOUNTING, "POST", "/sync",
                                           &error);
  if (net == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  g_free (local->device_id);
  local->device_id = pm_net_client_dup_device_id (client);
  net->content_type = g_strdup (PM_NET_XML_TYPE);
  net->body = pm_accounts_sync_build (local);
  pm_net_client_call_async (client, net, cancellable, accounting_cb, task);
}

PmAccountsSync *
pm_accounting_sync_finish (PmNetClient  *client,
                           GAsyncResult *result,
                           GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static PmWireAccount *
cost_account_copy (const PmWireAccount *a)
{
  PmWireAccount *copy = g_new0 (PmWireAccount, 1);

  copy->id = g_strdup (a->id);
  copy->parent = g_strdup (a->parent);
  copy->name = g_strdup (a->name);
  copy->active = a->active;
  copy->revision = a->revision;
  return copy;
}

GPtrArray *
pm_accounting_merge (GPtrArray *local,
                     GPtrArray *remote)
{
  g_autoptr(GHashTable) theirs = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *merged = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_wire_account_free);

  for (guint i = 0; i < remote->len; i++)
    {
      PmWireAccount *a = g_ptr_array_index (remote, i);
      g_hash_table_insert (theirs, a->id, a);
    }
  for (guint i = 0; i < local->len; i++)
    {
      PmWireAccount *ours = g_ptr_array_index (local, i);
      PmWireAccount *other = g_hash_table_lookup (theirs, ours->id);

      g_ptr_array_add (merged, cost_account_copy (pm_wire_account_merge (ours, other, TRUE)));
      g_hash_table_remove (theirs, ours->id);
    }
  for (guint i = 0; i < remote->len; i++)
    {
      PmWireAccount *a = g_ptr_array_index (remote, i);

      if (g_hash_table_contains (theirs, a->id))
        g_ptr_array_add (merged, cost_account_copy (a));
    }
  return merged;
}
