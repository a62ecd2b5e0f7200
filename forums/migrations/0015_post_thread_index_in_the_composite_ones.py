import django.db.models.deletion
from django.db import migrations, models

# The post's thread loses its own index (forums.models.Post.thread says why). Dropped by
# its name, the same on PostgreSQL and SQLite: an AlterField would make SQLite copy the
# whole table of posts to drop one index.
INDEX = "forums_post_thread_id_ac854f30"


class Migration(migrations.Migration):

    dependencies = [
        ("forums", "0014_post_hidden_by_author"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="post",
                    name="thread",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="posts",
                        to="forums.thread", verbose_name="thread",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    reverse_sql=f'CREATE INDEX {INDEX} ON "forums_post" ("thread_id")',
                ),
            ],
        ),
    ]
