import { Controller, Get, Inject } from '@nestjs/common';
import type { WorkspaceList } from '@conclave/contracts';
import { WorkspacesService } from './workspaces.service';

@Controller('workspaces')
export class WorkspacesController {
  constructor(@Inject(WorkspacesService) private readonly workspaces: WorkspacesService) {}

  /** The git repositories under WORKSPACE_ROOTS (`POST /runs` takes `workspace.path` = an item's `path`). */
  @Get()
  list(): Promise<WorkspaceList> {
    return this.workspaces.list();
  }
}
